"""Error messages of the rewards and certification domains: code -> (Korean, English)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    # rewards
    "not_a_citizen": ("시민 회원에게만 가능합니다.", "Only citizens can receive this."),
    "reward_rule_not_found": ("보상 규칙을 찾을 수 없습니다.", "Reward rule not found."),
    "reward_rule_conflict": (
        "같은 보상, 단계, 활동 유형의 규칙이 이미 있습니다.",
        "An active rule for this incentive, stage and activity kind exists.",
    ),
    "reward_entry_not_found": ("보상 내역을 찾을 수 없습니다.", "Ledger entry not found."),
    "budget_not_found": ("예산을 찾을 수 없습니다.", "Budget not found."),
    "budget_overlap": (
        "같은 보상의 다른 예산과 기간이 겹칩니다.",
        "Another budget for this incentive covers part of the period.",
    ),
    "budget_exhausted": (
        "예산이 모두 소진되어 지급할 수 없습니다.",
        "The budget for this incentive is spent.",
    ),
    "no_budget": (
        "이 보상에 대해 오늘 사용할 수 있는 예산이 없습니다.",
        "No budget is set for this incentive today.",
    ),
    "budget_below_spent": (
        "이미 지급한 금액보다 적게 예산을 줄일 수 없습니다.",
        "The new total is less than what was already granted.",
    ),
    "incentive_not_monetary": (
        "예산은 상품권, 현금, 현물에만 설정합니다.",
        "Only monetary incentives have budgets.",
    ),
    "insufficient_balance": ("잔액이 부족합니다.", "The balance is too small."),
    "not_redeemable": (
        "포인트와 상품권만 사용 처리할 수 있습니다.",
        "Only points and vouchers are redeemed.",
    ),
    "correction_exceeds_entry": (
        "정정 금액이 원래 지급액보다 많습니다.",
        "The corrections would take back more than the entry gave.",
    ),
    # certification
    "certification_criteria_not_found": ("인증 기준을 찾을 수 없습니다.", "Criteria not found."),
    "criteria_exist": (
        "이 종류의 인증 기준이 이미 있습니다. 기존 기준을 수정해 주세요.",
        "Criteria for this kind exist; change them instead.",
    ),
    "criteria_not_met": ("인증 기준을 충족하지 않습니다.", "The criteria are not met."),
    "certificate_not_found": ("인증서를 찾을 수 없습니다.", "Certificate not found."),
    "certificate_exists": (
        "이미 유효한 같은 종류의 인증서가 있습니다.",
        "The citizen already holds an active certificate of this kind.",
    ),
    "certificate_revoked": ("취소된 인증서입니다.", "The certificate is revoked."),
    "certificate_expired": (
        "만료된 인증서입니다. 갱신해 주세요.",
        "The certificate has expired; renew it instead.",
    ),
    "renewal_not_open": (
        "아직 갱신 기간이 아닙니다. 만료일이 가까워지면 갱신할 수 있습니다.",
        "Renewal opens closer to the expiry.",
    ),
    "issuer_code_invalid": (
        "이 지자체 코드로는 인증서를 발급할 수 없습니다.",
        "This municipality's code cannot be put on a certificate.",
    ),
    "issue_number_invalid": (
        "발급번호가 올바르지 않습니다. 16자리 숫자를 다시 확인해 주세요.",
        "This is not a valid issue number; check the 16 digits.",
    ),
}
