"""The gettext catalogues (``messages.pot``, ``lv``, ``en``), shipped as package data so that an
installed bot finds them through ``importlib.resources`` (see ``bot.i18n``)."""
