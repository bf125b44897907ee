"""What Gotong tells an MSME, in Bahasa Indonesia or English: pure functions from facts to ``OutboundMessage``.

Requests carry three reply buttons whose ids name the request (``accept:<id>``, ``part:<id>``,
``decline:<id>``); outside WhatsApp's 24-hour window the same message goes as an approved template whose
quick-reply buttons carry the same ids as payloads (templates in ``channels/whatsapp_templates.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from uuid import UUID

from services.notifications.domain.outbound import OutboundMessage, ReplyButton, TemplateCall

WIB = timezone(timedelta(hours=7), "WIB")
"""Deadlines are shown in Western Indonesia Time, with the zone named."""

BUTTON_TITLES = {
    "id": {"accept": "Terima semua", "part": "Terima sebagian", "decline": "Tolak"},
    "en": {"accept": "Accept all", "part": "Accept part", "decline": "Decline"},
}


@dataclass(frozen=True)
class RequestFacts:
    """What a request message says: the product, how many by month, the price, the deadline, the pool."""

    request_id: UUID
    msme_name: str
    product: str
    quantity: int
    unit: str
    plan: list[tuple[str, int]]
    price: str
    currency: str
    expires_at: datetime
    destination: str
    pool: str


def _number(value: int, language: str) -> str:
    return f"{value:,}".replace(",", "." if language == "id" else ",")


def _when(moment: datetime) -> str:
    return moment.astimezone(WIB).strftime("%Y-%m-%d %H:%M WIB")


def request_buttons(request_id: UUID, language: str) -> list[ReplyButton]:
    titles = BUTTON_TITLES[_lang(language)]
    return [ReplyButton(id=f"{action}:{request_id}", title=titles[action]) for action in ("accept", "part", "decline")]


def _lang(language: str) -> str:
    return "en" if language == "en" else "id"


def request_message(
    facts: RequestFacts, language: str, *, link: str, resent: bool = False, template: str | None = None
) -> OutboundMessage:
    """A new allocation request, or one re-sent after a re-allocation (the pool asked others before)."""
    lang = _lang(language)
    amount = _number(facts.quantity, lang)
    months = ", ".join(f"{month}: {_number(units, lang)}" for month, units in facts.plan)
    when = _when(facts.expires_at)
    if lang == "id":
        head = "Permintaan ulang setelah alokasi ulang" if resent else "Permintaan alokasi baru"
        text = (
            f"{head} untuk {facts.msme_name}: {amount} {facts.unit} {facts.product} "
            f"(per bulan: {months}), harga {facts.price} {facts.currency}/{facts.unit}, "
            f"dikirim ke {facts.destination} ({facts.pool}). Jawab sebelum {when}."
        )
    else:
        head = "Request re-sent after a re-allocation" if resent else "New allocation request"
        text = (
            f"{head} for {facts.msme_name}: {amount} {facts.unit} of {facts.product} "
            f"(by month: {months}), price {facts.price} {facts.currency}/{facts.unit}, "
            f"delivered to {facts.destination} ({facts.pool}). Answer before {when}."
        )
    buttons = request_buttons(facts.request_id, lang)
    call = None
    if template:
        parameters = [head, facts.msme_name, f"{amount} {facts.unit} {facts.product}", months, when]
        call = TemplateCall(
            name=template, language=lang, parameters=parameters, button_payloads=[b.id for b in buttons]
        )
    return OutboundMessage(text=text, buttons=buttons, link=link, template=call)


def reminder_message(facts: RequestFacts, language: str, *, link: str, template: str | None = None) -> OutboundMessage:
    lang = _lang(language)
    amount = f"{_number(facts.quantity, lang)} {facts.unit} {facts.product}"
    when = _when(facts.expires_at)
    if lang == "id":
        text = f"Pengingat: permintaan {amount} untuk {facts.msme_name} berakhir {when}. Belum ada jawaban."
    else:
        text = f"Reminder: the request for {amount} for {facts.msme_name} expires {when}. It has no answer yet."
    buttons = request_buttons(facts.request_id, lang)
    call = None
    if template:
        call = TemplateCall(
            name=template, language=lang, parameters=[facts.msme_name, amount, when],
            button_payloads=[b.id for b in buttons],
        )  # fmt: skip
    return OutboundMessage(text=text, buttons=buttons, link=link, template=call)


def update_message(
    text: str, language: str, *, link: str | None = None, template: str | None = None
) -> OutboundMessage:
    """A plain notification (a lot's verdict, a shipment, an answer's outcome); its template has one parameter."""
    call = TemplateCall(name=template, language=_lang(language), parameters=[text]) if template else None
    return OutboundMessage(text=text, link=link, template=call)


def lot_accepted_text(language: str, lot_code: str, quantity: int, msme: str) -> str:
    if _lang(language) == "id":
        return f"Lot {lot_code} ({_number(quantity, 'id')}) dari {msme} DITERIMA pada inspeksi. Terima kasih!"
    return f"Lot {lot_code} ({_number(quantity, 'en')}) of {msme} was ACCEPTED at inspection. Thank you!"


def lot_rejected_text(language: str, lot_code: str, quantity: int, msme: str, reasons: list[str]) -> str:
    why = "; ".join(reasons) or ("tanpa alasan tercatat" if _lang(language) == "id" else "no reason recorded")
    if _lang(language) == "id":
        return f"Lot {lot_code} ({_number(quantity, 'id')}) dari {msme} DITOLAK pada inspeksi. Alasan: {why}."
    return f"Lot {lot_code} ({_number(quantity, 'en')}) of {msme} was REJECTED at inspection. Reason: {why}."


def shipped_text(language: str, lot_codes: list[str], quantity: int, destination: str) -> str:
    lots = ", ".join(lot_codes)
    if _lang(language) == "id":
        return f"Pesanan sudah dikirim dari {destination}: lot Anda {lots} ({_number(quantity, 'id')}) ikut dikirim."
    return f"The order has shipped from {destination}: your lots {lots} ({_number(quantity, 'en')}) went with it."


def certificate_expiring_text(
    language: str, certificate: str, number: str, msme: str, valid_until: str, days_left: int
) -> str:
    """A certificate's last valid day is near (30 and 7 days before): renew it to keep getting allocations."""
    if _lang(language) == "id":
        return (
            f"Sertifikat {certificate} {number} milik {msme} berlaku sampai {valid_until} ({days_left} hari lagi). "
            "Perpanjang sebelum habis agar tetap bisa menerima alokasi yang memerlukannya."
        )
    return (
        f"The {certificate} certificate {number} of {msme} is valid until {valid_until} ({days_left} days left). "
        "Renew it before it lapses to keep receiving allocations that require it."
    )


PROBLEM_TEXTS = {
    "id": {
        "over-allocation": "jumlah itu melebihi yang masih dibutuhkan pool",
        "capacity": "kapasitas bulanan Anda tidak cukup",
        "not-answerable": "permintaan ini sudah tidak bisa dijawab",
        "expired": "permintaan ini sudah kedaluwarsa",
        "not-found": "permintaan ini tidak ditemukan untuk usaha Anda",
    },
    "en": {
        "over-allocation": "that is more than the pool still needs",
        "capacity": "your monthly capacity is not enough",
        "not-answerable": "this request can no longer be answered",
        "expired": "this request has expired",
        "not-found": "this request was not found for your business",
    },
}


def outcome_text(language: str, outcome: str, quantity: int, requested: int, problem: str | None) -> str:
    """What happened to an answer: ``Diterima 300 dari 500`` / ``Accepted 300 of 500``, declined, or why not."""
    lang = _lang(language)
    if outcome == "accepted":
        if lang == "id":
            return f"Diterima {_number(quantity, lang)} dari {_number(requested, lang)}. Terima kasih!"
        return f"Accepted {_number(quantity, lang)} of {_number(requested, lang)}. Thank you!"
    if outcome == "declined":
        return (
            "Permintaan ditolak. Terima kasih atas jawabannya." if lang == "id" else "Declined. Thanks for answering."
        )
    why = _why(lang, problem)
    return f"Jawaban tidak bisa diproses: {why}." if lang == "id" else f"Your answer could not be taken: {why}."


def _why(lang: str, problem: str | None) -> str:
    texts = PROBLEM_TEXTS[lang]
    for key, text in texts.items():
        if problem and key in problem:
            return text
    return texts["not-answerable"]


REPLIES = {
    "id": {
        "ask_quantity": "Berapa yang bisa Anda buat? Balas dengan angka saja, misalnya 300.",
        "unknown": (
            'Maaf, kami tidak mengerti. Pakai tombol di pesan permintaan, atau balas "terima", "terima 300" '
            'atau "tolak". Balas STOP untuk berhenti menerima pesan.'
        ),
        "no_request": "Maaf, kami tidak menemukan permintaan yang bisa Anda jawab dari nomor ini.",
        "opted_out": "Anda tidak akan menerima pesan lagi dari Gotong. Balas MULAI untuk berlangganan lagi.",
        "opted_in": "Anda akan menerima pesan dari Gotong lagi. Balas STOP untuk berhenti.",
        "received": "Jawaban Anda sudah kami terima dan sedang diproses.",
    },
    "en": {
        "ask_quantity": "How many can you make? Reply with a number only, e.g. 300.",
        "unknown": (
            'Sorry, we did not understand. Use the buttons on the request, or reply "accept", "accept 300" '
            'or "decline". Reply STOP to stop receiving messages.'
        ),
        "no_request": "Sorry, we found no request you can answer from this number.",
        "opted_out": "You will not get messages from Gotong any more. Reply START to subscribe again.",
        "opted_in": "You will get messages from Gotong again. Reply STOP to stop.",
        "received": "We got your answer and are processing it.",
    },
}


def reply_text(language: str, key: str) -> str:
    return REPLIES[_lang(language)][key]
