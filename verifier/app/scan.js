// Camera scanning: the browser's BarcodeDetector where it exists, else jsQR (bundled).
import { checkAndShow, onScreen, show } from "./app.js";
import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
let stream = null;
let running = false;
let detector = null;

async function loadJsQr() {
  if (window.jsQR) return window.jsQR;
  await new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/verify/vendor/jsQR.js";
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
  return window.jsQR;
}

async function makeDecoder() {
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) {
        detector ??= new window.BarcodeDetector({ formats: ["qr_code"] });
        return async (video) => (await detector.detect(video))[0]?.rawValue ?? null;
      }
    } catch {
      // Fall through to the bundled decoder.
    }
  }
  const jsQR = await loadJsQr();
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  return async (video) => {
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (!width || !height) return null;
    canvas.width = width;
    canvas.height = height;
    context.drawImage(video, 0, 0, width, height);
    const found = jsQR(context.getImageData(0, 0, width, height).data, width, height, {
      inversionAttempts: "attemptBoth",
    });
    return found ? found.data : null;
  };
}

function stop() {
  running = false;
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  $("scan-video").srcObject = null;
}

/** Scan until a QR is read, then hand its text to `onText` (certificate check by default). */
export async function startScan(onText = checkAndShow, returnTo = "check") {
  $("scan-message").textContent = "";
  show("scan");
  $("scan-cancel").onclick = () => {
    stop();
    show(returnTo);
  };
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch {
    $("scan-message").textContent = t("camera_denied");
    return;
  }
  const video = $("scan-video");
  video.srcObject = stream;
  await video.play().catch(() => {});
  const decode = await makeDecoder();
  running = true;
  while (running) {
    let text = null;
    try {
      text = await decode(video);
    } catch {
      text = null;
    }
    if (text && running) {
      stop();
      await onText(text);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

export function init() {
  onScreen("scan", { leave: stop });
  $("scan-button").addEventListener("click", () => startScan());
}
