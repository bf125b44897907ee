"""Routes of what a shipped pool hands over at the border."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Request, Response, get
from litestar.params import FromPath, QueryParameter

from services.pooling.domain.eudr_statement import NotCovered, Statement
from services.pooling.domain.trade_documents import CommercialInvoices, OriginRequests, PackingList
from services.pooling.read.document_pdf import document_pdf
from services.pooling.use_cases import documents
from services.pooling.use_cases.exports import eudr_statement
from shared.api import Caller, Context
from shared.auth import Role
from shared.guards import allow
from shared.kernel.errors import InvalidInput
from shared.kernel.scopes import Scope
from shared.problems import problem_responses


@get(
    "/pools/{pool_id:uuid}/eudr",
    guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_READ)],
    responses=problem_responses(409),
)
async def get_eudr_statement(pool_id: FromPath[UUID], principal: Caller, ctx: Context) -> Statement | NotCovered:
    """The EU deforestation regulation due diligence statement's data for the lots the pool shipped, with the
    producers' plots as one GeoJSON FeatureCollection. Goods outside Annex I answer ``{"covered": false}``; a
    statement that would break a limit (25 MB of GeoJSON, producers per commodity), lacks a unit mass or a lot's
    plots is refused with 409 naming what is missing."""
    return await eudr_statement(ctx, principal, pool_id)


DocumentKind = Literal["commercial-invoice", "packing-list", "certificate-of-origin", "peb"]
Format = Annotated[Literal["json", "pdf"] | None, QueryParameter(name="format")]
PDF = "application/pdf"


@get(
    "/pools/{pool_id:uuid}/documents/{kind:str}",
    guards=[allow(Role.AGGREGATOR, scope=Scope.POOLS_READ)],
    responses=problem_responses(409),
    media_type="application/json",
)
async def get_trade_document(
    pool_id: FromPath[UUID],
    kind: FromPath[DocumentKind],
    request: Request[Any, Any, Any],
    principal: Caller,
    ctx: Context,
    output: Format = None,
) -> Response[bytes]:
    """A shipped pool's ``commercial-invoice`` (one per order), ``packing-list`` (per lot) or
    ``certificate-of-origin`` (e-SKA request data per order: form by destination, origin criterion), as JSON or as
    PDF (``?format=pdf`` or ``Accept: application/pdf``); or ``peb``, the export declaration's data per order in
    the fields CEISA asks for (JSON only), with the gaps the exporter completes before filing."""
    if kind == "peb":
        if output == "pdf":
            raise InvalidInput.of("format", "the PEB is data for CEISA, given as JSON only")
        declared = await documents.export_declaration(ctx, principal, pool_id)
        return Response(msgspec.json.encode(declared), media_type="application/json")
    document: CommercialInvoices | PackingList | OriginRequests
    if kind == "commercial-invoice":
        document = await documents.commercial_invoices(ctx, principal, pool_id)
    elif kind == "packing-list":
        document = await documents.packing(ctx, principal, pool_id)
    else:
        document = await documents.certificate_of_origin(ctx, principal, pool_id)
    wants_pdf = output == "pdf" or (output is None and PDF in request.headers.get("accept", ""))
    if not wants_pdf:
        return Response(msgspec.json.encode(document), media_type="application/json")
    pdf = document_pdf(document)
    filename = f"{kind}-{pool_id}.pdf"
    return Response(pdf, media_type=PDF, headers={"Content-Disposition": f'inline; filename="{filename}"'})


ROUTES = [get_eudr_statement, get_trade_document]
