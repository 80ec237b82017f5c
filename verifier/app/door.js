// Door check-in of meeting tickets (staff): not built yet, so its link stays hidden.
export function init() {
  document.getElementById("door-link").hidden = true;
}
