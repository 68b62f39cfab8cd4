"""The one language fact the domain needs: which language a text without one is in.

Which languages the bot speaks (codes, native names, catalogues) is ``bot.i18n``'s list; the
domain takes the enabled codes as parameters where it checks them."""

from __future__ import annotations

#: Latvian: what a person reads until they choose, and the text of an alert for everyone.
DEFAULT_LANGUAGE = "lv"
