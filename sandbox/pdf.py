"""A small but valid PDF of a sales form, as ``GET /invoice/<id>/pdf`` returns one.

Written by hand (one page, Helvetica, a cross-reference table with exact offsets) so the emulator
needs no PDF library; any PDF reader opens it.
"""

from __future__ import annotations


def _escape(text: str) -> str:
    cleaned = text.encode("latin-1", "replace").decode("latin-1")
    return cleaned.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def render(company: str, entity: str, obj: dict) -> bytes:
    """The PDF bytes for ``obj`` (an Invoice or CreditMemo)."""
    number = obj.get("DocNumber") or obj["Id"]
    lines = [f"{company}", "", f"{entity} {number}", f"Date: {obj.get('TxnDate', '')}"]
    if obj.get("DueDate"):
        lines.append(f"Due: {obj['DueDate']}")
    lines += [f"Bill to: {obj['CustomerRef'].get('name', obj['CustomerRef']['value'])}", ""]
    for line in obj.get("Line", []):
        if line.get("DetailType") == "SalesItemLineDetail":
            detail = line["SalesItemLineDetail"]
            label = line.get("Description") or (detail.get("ItemRef") or {}).get("name", "Item")
            qty = f"{detail['Qty']} x {detail.get('UnitPrice', '')}  " if "Qty" in detail else ""
            lines.append(f"{label[:60]}   {qty}{line['Amount']}")
        elif line.get("DetailType") == "SubTotalLineDetail":
            lines.append(f"Subtotal   {line['Amount']}")
        elif line.get("DetailType") == "DiscountLineDetail":
            lines.append(f"Discount   -{line['Amount']}")
    tax = (obj.get("TxnTaxDetail") or {}).get("TotalTax", 0)
    lines += [f"Tax   {tax}", f"Total   {obj.get('TotalAmt')} {obj.get('CurrencyRef', {}).get('value', '')}",
              f"Balance due   {obj.get('Balance', obj.get('TotalAmt'))}"]
    ops = ["BT", "/F1 11 Tf", "14 TL", "56 780 Td"]
    for text in lines:
        ops.append(f"({_escape(text)}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number_, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number_} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode() + b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
