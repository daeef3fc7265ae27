"""Display values that identify nobody on their own: what orders, logs and events may carry."""

MASK = "***"


def mask_email(email: str) -> str:
    """`jane.doe@example.com` -> `j***@example.com`"""
    local, _, domain = email.strip().lower().rpartition("@")
    return f"{local[:1]}{MASK}@{domain}" if local else MASK


def mask_name(name: str) -> str:
    """`Jane Doe` -> `J***`"""
    name = name.strip()
    return f"{name[:1]}{MASK}" if name else MASK


def mask_phone(phone: str | None) -> str | None:
    """`+441234567890` -> `***7890`: the last four digits only."""
    if phone is None:
        return None
    digits = [c for c in phone if c.isdigit()]
    return MASK + "".join(digits[-4:]) if len(digits) > 4 else MASK
