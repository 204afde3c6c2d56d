"""The flows: ``create``, ``receive`` and ``mark`` (each ends in content and a ledger entry),
and ``screen`` (a decision on content, recorded, without generating anything)."""
