"""What the phone page says, in Bahasa Indonesia (the default) and English, and how it writes numbers, money and
times for each: a small catalog rather than gettext, since two languages and a few dozen sentences is all it is."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo

Language = Literal["id", "en"]
LANGUAGES: tuple[Language, ...] = ("id", "en")
DEFAULT: Language = "id"
WIB = ZoneInfo("Asia/Jakarta")
"""Deadlines are shown in Western Indonesian Time, where most MSMEs (Java, Sumatra) are."""

CATALOG: dict[str, dict[Language, str]] = {
    # the frame
    "app": {"id": "Gotong untuk UMKM", "en": "Gotong for MSMEs"},
    "nav.inbox": {"id": "Permintaan", "en": "Requests"},
    "nav.capacity": {"id": "Kapasitas", "en": "Capacity"},
    "nav.lots": {"id": "Lot", "en": "Lots"},
    "nav.sign_out": {"id": "Keluar", "en": "Sign out"},
    "language.switch": {"id": "English", "en": "Bahasa Indonesia"},
    # signing in
    "sign_in.title": {"id": "Masuk", "en": "Sign in"},
    "sign_in.phone": {"id": "Nomor HP (WhatsApp)", "en": "Phone number (WhatsApp)"},
    "sign_in.phone_hint": {"id": "Contoh: +62 812 3456 7890", "en": "For example: +62 812 3456 7890"},
    "sign_in.send": {"id": "Kirim kode", "en": "Send code"},
    "sign_in.sent": {
        "id": "Jika nomor {phone} terdaftar, kode 6 angka sudah dikirim ke nomor itu. Kode berlaku 10 menit.",
        "en": "If {phone} is registered, a 6-digit code was sent to it. The code is valid for 10 minutes.",
    },
    "sign_in.code": {"id": "Kode 6 angka", "en": "6-digit code"},
    "sign_in.enter": {"id": "Masuk", "en": "Sign in"},
    "sign_in.again": {"id": "Minta kode baru", "en": "Ask for a new code"},
    "sign_in.bad_phone": {
        "id": "Tulis nomor HP lengkap dengan kode negara, misalnya +62 812 3456 7890.",
        "en": "Write the full phone number with its country code, for example +62 812 3456 7890.",
    },
    "sign_in.bad_code": {"id": "Kode terdiri dari 6 angka.", "en": "The code is 6 digits."},
    "sign_in.wrong_code": {
        "id": "Kode salah atau sudah tidak berlaku. Periksa pesan terakhir atau minta kode baru.",
        "en": "The code is wrong or no longer valid. Check the latest message or ask for a new code.",
    },
    "sign_in.too_many": {
        "id": "Terlalu banyak permintaan kode. Coba lagi dalam {minutes} menit.",
        "en": "Too many codes asked for. Try again in {minutes} minutes.",
    },
    "sign_in.code_message": {
        "id": "Kode masuk Gotong Anda: {code}. Berlaku 10 menit. Jangan berikan kode ini kepada siapa pun.",
        "en": "Your Gotong sign-in code: {code}. Valid for 10 minutes. Do not share this code with anyone.",
    },
    "sign_in.no_msme": {
        "id": "Nomor ini belum terhubung dengan UMKM mana pun. Hubungi agregator Anda.",
        "en": "This number is not linked to any MSME yet. Contact your aggregator.",
    },
    # the inbox and a request
    "inbox.title": {"id": "Permintaan alokasi", "en": "Allocation requests"},
    "inbox.empty": {"id": "Tidak ada permintaan terbuka.", "en": "No open requests."},
    "inbox.answered": {"id": "Sudah dijawab", "en": "Answered"},
    "request.title": {"id": "Permintaan", "en": "Request"},
    "request.msme": {"id": "UMKM", "en": "MSME"},
    "request.product": {"id": "Produk", "en": "Product"},
    "request.quantity": {"id": "Jumlah", "en": "Quantity"},
    "request.per_month": {"id": "Per bulan", "en": "Per month"},
    "request.unit_price": {"id": "Harga satuan", "en": "Unit price"},
    "request.deadline": {"id": "Jawab sebelum", "en": "Answer by"},
    "request.destination": {"id": "Dikirim ke", "en": "Deliver to"},
    "request.pool": {"id": "Pool", "en": "Pool"},
    "request.status": {"id": "Status", "en": "Status"},
    "request.open": {"id": "Lihat", "en": "Open"},
    "status.pending": {"id": "menunggu jawaban", "en": "awaiting your answer"},
    "status.accepted": {"id": "diterima", "en": "accepted"},
    "status.declined": {"id": "ditolak", "en": "declined"},
    "status.expired": {"id": "kedaluwarsa", "en": "expired"},
    "status.withdrawn": {"id": "ditarik", "en": "withdrawn"},
    "answer.accept_all": {"id": "Terima semua ({quantity})", "en": "Accept all ({quantity})"},
    "answer.accept_part": {"id": "Terima sebagian", "en": "Accept part"},
    "answer.part_bounds": {"id": "Jumlah antara 1 dan {quantity}", "en": "A quantity from 1 to {quantity}"},
    "answer.decline": {"id": "Tolak", "en": "Decline"},
    "answer.reason": {"id": "Alasan", "en": "Reason"},
    "answer.reason_hint": {"id": "Paling banyak {limit} karakter", "en": "At most {limit} characters"},
    "answer.not_number": {"id": "Tulis jumlah dengan angka saja.", "en": "Write the quantity in digits only."},
    "answer.too_small": {"id": "Jumlah paling sedikit 1.", "en": "The quantity must be at least 1."},
    "answer.too_large": {
        "id": "Jumlah paling banyak {quantity}, sebanyak yang diminta.",
        "en": "The quantity can be at most {quantity}, what was asked for.",
    },
    "answer.reason_missing": {"id": "Tulis alasan penolakan.", "en": "Write why you decline."},
    "answer.reason_too_long": {
        "id": "Alasan terlalu panjang: paling banyak {limit} karakter.",
        "en": "The reason is too long: at most {limit} characters.",
    },
    "answer.reason_unstorable": {
        "id": "Alasan berisi karakter yang tidak dapat disimpan.",
        "en": "The reason holds characters that cannot be stored.",
    },
    "answer.bad_decision": {"id": "Pilih salah satu jawaban.", "en": "Choose one of the answers."},
    "result.accepted": {"id": "Diterima {quantity} dari {requested}.", "en": "Accepted {quantity} of {requested}."},
    "result.declined": {"id": "Anda menolak permintaan ini.", "en": "You declined this request."},
    "result.refused": {"id": "Jawaban tidak dapat diproses: {why}", "en": "The answer could not be taken: {why}"},
    "result.processing": {
        "id": "Jawaban Anda masih diproses.",
        "en": "Your answer is still being processed.",
    },
    "result.refresh": {"id": "Muat ulang", "en": "Refresh"},
    "problem.over-allocation": {
        "id": "pool sudah tidak membutuhkan sebanyak itu.",
        "en": "the pool no longer needs that many.",
    },
    "problem.over-capacity": {
        "id": "jumlah melebihi kapasitas bulanan Anda yang tersisa.",
        "en": "the quantity is more than your remaining monthly capacity.",
    },
    "problem.request-expired": {"id": "permintaan sudah kedaluwarsa.", "en": "the request has expired."},
    "problem.illegal-transition": {"id": "permintaan sudah dijawab atau ditutup.", "en": "the request is closed."},
    "problem.not-found": {"id": "permintaan tidak ditemukan.", "en": "the request was not found."},
    # capacity and lots
    "capacity.title": {"id": "Kapasitas per bulan", "en": "Capacity per month"},
    "capacity.month": {"id": "Bulan", "en": "Month"},
    "capacity.declared": {"id": "Dinyatakan", "en": "Declared"},
    "capacity.committed": {"id": "Terikat", "en": "Committed"},
    "capacity.empty": {"id": "Belum ada kapasitas yang dinyatakan.", "en": "No capacity declared yet."},
    "lots.title": {"id": "Lot dan hasil pemeriksaan", "en": "Lots and their verdicts"},
    "lots.code": {"id": "Kode lot", "en": "Lot code"},
    "lots.delivered": {"id": "Dikirim", "en": "Delivered"},
    "lots.empty": {"id": "Belum ada lot.", "en": "No lots yet."},
    "verdict.pending": {"id": "menunggu pemeriksaan", "en": "awaiting inspection"},
    "verdict.accepted": {"id": "lulus", "en": "accepted"},
    "verdict.rejected": {"id": "ditolak", "en": "rejected"},
    # errors
    "error.403": {
        "id": "Formulir ini sudah tidak berlaku. Buka halaman lagi lalu kirim ulang.",
        "en": "This form is no longer valid. Open the page again and send it once more.",
    },
    "error.404": {"id": "Halaman tidak ditemukan.", "en": "Page not found."},
    "error.429": {
        "id": "Terlalu banyak permintaan. Coba lagi sebentar lagi.",
        "en": "Too many requests. Try again soon.",
    },
    "error.500": {
        "id": "Terjadi kesalahan. Coba lagi sebentar lagi.",
        "en": "Something went wrong. Try again in a moment.",
    },
    "error.back": {"id": "Kembali ke beranda", "en": "Back to the start"},
}

_MONTHS: dict[Language, tuple[str, ...]] = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def language(value: str | None) -> Language:
    """A language the page speaks: ``value`` if it is one, else the default."""
    return "en" if value == "en" else DEFAULT


class Messages:
    """The page's words and formats in one language; templates call it as ``t("key", name=value)``."""

    def __init__(self, lang: Language) -> None:
        self.lang = lang

    def __call__(self, key: str, **values: object) -> str:
        text = CATALOG[key][self.lang]
        return text.format(**{k: self.number(v) if isinstance(v, int) else v for k, v in values.items()})

    def label(self, kind: str, value: str) -> str:
        """A status or verdict in words; one the catalog does not know is shown as it is."""
        entry = CATALOG.get(f"{kind}.{value}")
        return entry[self.lang] if entry else value

    def number(self, value: int) -> str:
        """1.500 in Indonesian, 1,500 in English."""
        grouped = f"{value:,}"
        return grouped.replace(",", ".") if self.lang == "id" else grouped

    def money(self, amount: Decimal | str, currency: str) -> str:
        try:
            value = Decimal(amount)
        except InvalidOperation:
            return f"{currency} {amount}"
        text = f"{value:,.2f}"
        if self.lang == "id":
            text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
        return f"{currency} {text}"

    def month(self, month: str) -> str:
        """``2027-02`` as Feb 2027 (Mei 2027 in Indonesian)."""
        year, number = month.split("-")
        return f"{_MONTHS[self.lang][int(number) - 1]} {year}"

    def moment(self, at: datetime) -> str:
        local = at.astimezone(WIB)
        return f"{local.day} {_MONTHS[self.lang][local.month - 1]} {local.year}, {local:%H:%M} WIB"

    def day(self, at: date) -> str:
        return f"{at.day} {_MONTHS[self.lang][at.month - 1]} {at.year}"

    def why(self, problem: str | None, detail: str | None) -> str:
        """A refusal's reason in this language when the catalog knows its problem type, else pooling's detail."""
        key = f"problem.{problem}"
        if key in CATALOG:
            return CATALOG[key][self.lang]
        return detail or CATALOG["error.500"][self.lang]
