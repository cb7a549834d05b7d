"""The customs declaration of what a vendor ships: the UPU form its value calls for, filled from the vendor order
(sender, recipient, items with description, quantity, net weight, value, HS code and origin, totals, the
category `sale_of_goods`, the invoice number and the incoterm), and its printable PDF.

Form by value (UPU Convention Regulations, article 20.4 and its CN 22 / CN 23 rules): a CN 22 for contents worth
up to 300 SDR, a CN 23 above. The value is converted to SDR through US dollars at `SDR_IN_USD`, a reference
rate (the stored exchange rates carry no SDR quote).
"""
from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

from fpdf import FPDF
from sqlalchemy.orm import Session

from catalog.models import Product
from marketplace.accounts.models import User
from marketplace.checkout import orders
from marketplace.checkout.models import VendorOrder
from marketplace.duties import rules as duty_rules
from marketplace.kernel import events
from marketplace.kernel.money import Money, sum_money
from marketplace.rates import services as rates
from vendors.models import Vendor

CN22_LIMIT_SDR = Decimal("300")
#: US dollars per SDR, the IMF's valuation in the second half of 2025 (about 1.36-1.38); a reference figure
#: for choosing the form, refreshed with this file.
SDR_IN_USD = Decimal("1.37")
CATEGORY = "sale_of_goods"
DATA_READY = "customs.data_ready"


def invoice_number(vendor_order: VendorOrder) -> str:
    return f"BB-{vendor_order.order_id}-{vendor_order.id}"


def declaration(session: Session, user: User, vendor_order_id: int) -> dict[str, Any]:
    """The declaration of one of the caller's vendor orders (404 for another vendor's)."""
    vendor_order = orders.own_vendor_order(session, user, vendor_order_id)
    return build(session, vendor_order)


def build(session: Session, vendor_order: VendorOrder) -> dict[str, Any]:
    order, vendor = vendor_order.order, session.get(Vendor, vendor_order.vendor_id)
    currency = order.currency
    items, missing = [], set()
    for line in vendor_order.lines:
        product = session.get(Product, line.product_id) if line.product_id is not None else None
        weight = line.weight_g if line.weight_g is not None else (product.weight_g if product else None)
        description = line.customs_description or (product.customs_description if product else None)
        hs_code = line.hs_code or (product.hs_code if product else None)
        if weight is None:
            missing.add("net_weight_g")
        if description is None:
            missing.add("description")
        items.append({"description": description or line.title, "quantity": line.quantity,
                      "net_weight_g": weight * line.quantity if weight is not None else None,
                      "value": Money(line.line_total_amount, currency), "hs_code": hs_code,
                      "origin_country": line.origin_country or vendor.country})
    value = sum_money([item["value"] for item in items], currency)
    in_usd = rates.current_table(session).convert(value, "USD")
    form = "CN22" if in_usd.amount <= CN22_LIMIT_SDR * SDR_IN_USD else "CN23"
    address = order.shipping_address
    incoterm = vendor_order.incoterm or (None if vendor.country == address["country"] else
                                         duty_rules.rule_for(address["country"], order.created_at.date()).incoterm)
    return {
        "form": form, "vendor_order_id": vendor_order.id, "order_id": order.id,
        "invoice_number": invoice_number(vendor_order), "category": CATEGORY, "incoterm": incoterm,
        "currency": currency,
        "sender": {"name": vendor.display_name, "address": vendor.address, "country": vendor.country},
        "recipient": {k: address.get(k) for k in ("name", "line1", "line2", "city", "region", "postal_code",
                                                  "country")},
        "items": items,
        "totals": {"value": value, "quantity": sum(i["quantity"] for i in items),
                   "net_weight_g": (sum(i["net_weight_g"] for i in items) if "net_weight_g" not in missing
                                    else None)},
        "postage": Money(vendor_order.shipping_amount or 0, currency),
        "incomplete": sorted(missing),
    }


def publish_ready(session: Session, order) -> None:
    """Advance electronic data: when an order is paid, each vendor shipping it abroad has its partners told
    `customs.data_ready` with what the declaration says of the goods (form, invoice, items, totals, the
    destination country; never the recipient's name or address)."""
    for vendor_order in order.vendor_orders:
        vendor = session.get(Vendor, vendor_order.vendor_id)
        if vendor.country == order.shipping_address["country"]:
            continue
        data = build(session, vendor_order)
        events.publish(session, DATA_READY, {
            "vendor_order_id": vendor_order.id, "order_id": order.id, "form": data["form"],
            "invoice_number": data["invoice_number"], "category": CATEGORY, "incoterm": data["incoterm"],
            "destination_country": order.shipping_address["country"], "currency": data["currency"],
            "items": [{**item, "value": str(item["value"].amount)} for item in data["items"]],
            "totals": {**data["totals"], "value": str(data["totals"]["value"].amount)},
        }, vendor_ids=[vendor_order.vendor_id])


def _latin(text: Any) -> str:
    """The PDF's core font is Latin-1: other characters are folded to their closest Latin letters where
    Unicode knows one, else shown as '?' (the JSON form keeps the exact text)."""
    folded = unicodedata.normalize("NFKD", str(text if text is not None else ""))
    return "".join(c for c in folded if not unicodedata.combining(c)).encode("latin-1", "replace").decode("latin-1")


def pdf(data: dict[str, Any]) -> bytes:
    """The declaration as a printable one-page PDF."""
    doc = FPDF(format=(148, 210), orientation="L", unit="mm")  # A5, landscape
    doc.set_auto_page_break(True, margin=8)
    doc.add_page()
    doc.set_font("Helvetica", "B", 14)
    title = "CN 22 - CUSTOMS DECLARATION" if data["form"] == "CN22" else "CN 23 - CUSTOMS DECLARATION"
    doc.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", size=8)
    sender, recipient = data["sender"], data["recipient"]
    sender_address = sender.get("address") or {}
    doc.multi_cell(0, 4, _latin(
        f"From: {sender['name']}, {sender_address.get('line1', '')}, {sender_address.get('city', '')} "
        f"{sender_address.get('postal_code', '')}, {sender['country']}"), new_x="LMARGIN", new_y="NEXT")
    doc.multi_cell(0, 4, _latin(
        f"To: {recipient['name']}, {recipient['line1']}, {recipient.get('line2') or ''} {recipient['city']} "
        f"{recipient.get('region') or ''} {recipient['postal_code']}, {recipient['country']}"),
        new_x="LMARGIN", new_y="NEXT")
    doc.cell(0, 5, _latin(f"Category: sale of goods   Invoice: {data['invoice_number']}   "
                          f"Incoterm: {data['incoterm'] or '-'}"), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", "B", 8)
    widths = (80, 14, 24, 30, 22, 18)
    for width, head in zip(widths, ("Detailed description of contents", "Qty", "Net weight (g)", "Value",
                                    "HS tariff no.", "Origin")):
        doc.cell(width, 5, head, border=1)
    doc.ln()
    doc.set_font("Helvetica", size=8)
    for item in data["items"]:
        cells = (item["description"], item["quantity"], item["net_weight_g"] if item["net_weight_g"] is not None
                 else "-", f"{item['value'].amount} {item['value'].currency}", item["hs_code"] or "-",
                 item["origin_country"])
        for width, cell in zip(widths, cells):
            doc.cell(width, 5, _latin(cell)[:60], border=1)
        doc.ln()
    totals = data["totals"]
    doc.set_font("Helvetica", "B", 8)
    doc.cell(widths[0], 5, "Total", border=1)
    doc.cell(widths[1], 5, str(totals["quantity"]), border=1)
    doc.cell(widths[2], 5, str(totals["net_weight_g"] if totals["net_weight_g"] is not None else "-"), border=1)
    doc.cell(widths[3], 5, f"{totals['value'].amount} {totals['value'].currency}", border=1)
    doc.ln(8)
    doc.set_font("Helvetica", size=7)
    doc.multi_cell(0, 4, "I certify that the particulars given in this customs declaration are correct and that "
                         "this item does not contain any dangerous article prohibited by postal or customs "
                         "regulations.")
    return bytes(doc.output())
