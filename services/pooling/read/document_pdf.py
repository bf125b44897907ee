"""Trade documents as PDF (reportlab): each document is a title, its parties and terms, and a table of lines."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from services.pooling.domain.trade_documents import CommercialInvoices, OriginRequests, PackingList, Party


@dataclass(frozen=True)
class Section:
    title: str
    facts: Sequence[tuple[str, str]]
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    totals: Sequence[tuple[str, str]]


def _party(party: Party) -> str:
    return f"{party.name}, {party.address} ({party.country})" if party.address else f"{party.name} ({party.country})"


def _number(value: Decimal | int | None) -> str:
    return "-" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def render(sections: Sequence[Section]) -> bytes:
    styles = getSampleStyleSheet()
    story: list[Flowable] = []
    for index, section in enumerate(sections):
        if index:
            story.append(PageBreak())
        story.append(Paragraph(section.title, styles["Title"]))
        for label, value in section.facts:
            story.append(Paragraph(f"<b>{label}:</b> {value}", styles["Normal"]))
        story.append(Spacer(1, 6 * mm))
        table = Table([list(section.header), *[list(row) for row in section.rows]], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("ALIGN", (-3, 1), (-1, -1), "RIGHT"),
                ]
            )
        )
        story.append(table)
        story.append(Spacer(1, 4 * mm))
        for label, value in section.totals:
            story.append(Paragraph(f"<b>{label}:</b> {value}", styles["Normal"]))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=sections[0].title if sections else "Document").build(story)
    return buffer.getvalue()


def document_pdf(document: CommercialInvoices | PackingList | OriginRequests) -> bytes:
    if isinstance(document, CommercialInvoices):
        return invoices_pdf(document)
    if isinstance(document, PackingList):
        return packing_list_pdf(document)
    return origin_pdf(document)


def origin_pdf(document: OriginRequests) -> bytes:
    return render(
        [
            Section(
                title=f"Certificate of origin request ({request.form})",
                facts=[
                    ("Exporter", _party(request.exporter)),
                    ("Consignee", _party(request.consignee)),
                    (
                        "Route",
                        f"{request.loading_port or '-'} to {request.destination_port or request.destination_country}",
                    ),
                    ("Invoice", f"{request.invoice_number}, {request.currency} {_number(request.invoice_total)}"),
                ],
                header=["HS codes", "Origin criterion", "Quantity", "Unit"],
                rows=[[", ".join(request.hs_codes), request.origin_criterion, _number(request.quantity), request.unit]],
                totals=[],
            )
            for request in document.requests
        ]
    )


def invoices_pdf(document: CommercialInvoices) -> bytes:
    return render(
        [
            Section(
                title=f"Commercial invoice {invoice.number}",
                facts=[
                    ("Seller", _party(invoice.seller)),
                    ("Buyer", _party(invoice.buyer)),
                    ("Order", str(invoice.order_id)),
                    ("Incoterms 2020", f"{invoice.incoterm} {invoice.incoterm_place}"),
                    ("Currency", invoice.currency),
                ],
                header=["HS code", "Description", "Quantity", "Unit", "Unit price", "Amount"],
                rows=[
                    [
                        line.hs_code,
                        line.description,
                        _number(line.quantity),
                        line.unit,
                        _number(line.unit_price),
                        _number(line.amount),
                    ]
                    for line in invoice.lines
                ],
                totals=[("Total", f"{invoice.currency} {_number(invoice.total)}")],
            )
            for invoice in document.invoices
        ]
    )


def packing_list_pdf(document: PackingList) -> bytes:
    return render(
        [
            Section(
                title="Packing list",
                facts=[
                    ("Exporter", _party(document.exporter)),
                    ("Pool", str(document.pool_id)),
                ],
                header=["Lot", "MSME", "Product", "HS code", "Quantity", "Net kg", "Gross kg"],
                rows=[
                    [
                        lot.lot_code,
                        lot.msme,
                        lot.product,
                        lot.hs_code,
                        f"{_number(lot.quantity)} {lot.unit}",
                        _number(lot.net_mass_kg),
                        _number(lot.gross_mass_kg),
                    ]
                    for lot in document.lots
                ],
                totals=[
                    ("Total quantity", f"{_number(document.total_quantity)} {document.unit}"),
                    ("Total net mass (kg)", _number(document.total_net_mass_kg)),
                ],
            )
        ]
    )
