"""Inline and reply keyboards. Callback data is ``prefix:arg:arg`` and always < 64 bytes."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

Button = tuple[str, str]  # (label, callback data)

NOOP = "noop"


def inline(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup:
    for row in rows:
        for _, data in row:
            if len(data.encode()) > 64:
                raise ValueError(f"callback data too long: {data!r}")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows if row]
    )


def columns(buttons: Sequence[Button], width: int) -> list[list[Button]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def paged(
    buttons: Sequence[Button], page: int, per_page: int, nav: str, width: int = 2
) -> tuple[list[list[Button]], int]:
    """One page of ``buttons`` in ``width`` columns and a ◀ n/N ▶ row whose buttons carry
    ``{nav}:{page}``; returns the rows and the page actually shown."""
    pages = max(1, -(-len(buttons) // per_page))
    page = min(max(page, 0), pages - 1)
    rows = columns(buttons[page * per_page : (page + 1) * per_page], width)
    if pages > 1:
        rows.append(
            [
                ("◀", f"{nav}:{(page - 1) % pages}"),
                (f"{page + 1}/{pages}", NOOP),
                ("▶", f"{nav}:{(page + 1) % pages}"),
            ]
        )
    return rows, page


def reply_keyboard(rows: Sequence[Sequence[KeyboardButton | str]]) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [list(r) for r in rows], resize_keyboard=True, one_time_keyboard=True, is_persistent=False
    )
