"""The Bot API methods the sandbox implements (the subset Sauciens uses), with Telegram's
validation and error wordings. ``BotApiMethods`` is mixed into
:class:`bot.sandbox.server.BotApiSandbox`, which holds the state these methods read and
change (chats, updates, files, callback queries) and routes requests to ``_m_<name>``."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from .chats import Chat
from .errors import ApiError, bad
from .faults import Outage, OutageMode
from .html import HtmlParseError, ParsedText, parse_html, strip_text, utf16_len
from .http import Params
from .limits import RateLimits
from .webhook import CONFLICT, WebhookDelivery

if TYPE_CHECKING:
    from .users import SimMessage

MAX_TEXT = 4096
MAX_CAPTION = 1024
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "login_url",
    "web_app",
    "callback_game",
    "pay",
    "copy_text",
)
_BOT_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")

#: The methods served, as Telegram spells them; each is ``_m_<name in lower case>``.
METHOD_NAMES: tuple[str, ...] = (
    "getMe",
    "logOut",
    "close",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "setChatMenuButton",
    "getChatMenuButton",
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "sendDocument",
    "sendLocation",
    "sendContact",
    "sendChatAction",
    "deleteMessage",
    "getChat",
    "getFile",
)


class BotApiMethods:
    """Bot API method implementations over the sandbox's state (see the module docstring)."""

    # State kept by BotApiSandbox.
    bot_user: dict[str, Any]
    commands: dict[str, list[dict]]
    _limits: RateLimits
    _outage: Outage
    _chats: dict[int, Chat]
    _callbacks: dict[str, dict[str, Any]]
    _files: dict[str, tuple[str, bytes, str]]
    _file_meta: dict[str, tuple[str, str]]
    _file_paths: dict[str, str]
    _file_counter: int
    _updates: deque[dict]
    _last_update_id: int
    _delivered_upto: int
    _allowed_updates: set[str] | None
    _update_event: asyncio.Event | None
    _poll_generation: int
    _last_activity: float
    webhook: WebhookDelivery

    def _bump(self, chat: Chat | None = None) -> int:
        raise NotImplementedError

    def _wake_pollers(self) -> None:
        raise NotImplementedError

    def _deliver_bot_message(self, chat: Chat, **fields: Any) -> SimMessage:
        raise NotImplementedError

    def _mark_edited(self, msg: SimMessage) -> None:
        raise NotImplementedError

    def _callback_answered(self, query: dict[str, Any]) -> None:
        raise NotImplementedError

    @property
    def _stopping(self) -> bool:
        raise NotImplementedError

    def _check_rate(self, chat: Chat, paid: bool) -> None:
        self._limits.check(chat.bucket, paid)

    def _get_chat(self, p: Params, *, for_send: bool = True) -> Chat:
        cid = p.chat_id()
        if cid is None:
            raise bad("chat_id is empty")
        chat: Chat | None
        if isinstance(cid, str):
            name = cid.lstrip("@").lower()
            chat = next(
                (c for c in self._chats.values() if c.type != "private" and (c.username or "").lower() == name),
                None,
            )
        else:
            chat = self._chats.get(cid)
        if chat is None:
            raise bad("chat not found")
        if for_send and chat.blocked:
            if chat.type == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")
        return chat

    def _parse_text(self, text: str, parse_mode: str | None, *, caption: bool = False) -> ParsedText:
        mode = (parse_mode or "").strip().lower()
        if mode == "html":
            try:
                parsed = parse_html(text)
            except HtmlParseError as exc:
                raise bad(f"can't parse entities: {exc}") from None
        elif mode in ("", "none"):
            parsed = ParsedText(text, [])
        elif mode in ("markdown", "markdownv2"):
            # Not used by Sauciens; keep the text as-is.
            parsed = ParsedText(text, [])
        else:
            raise bad("unsupported parse_mode")
        parsed = strip_text(parsed)
        limit = MAX_CAPTION if caption else MAX_TEXT
        if utf16_len(parsed.text) > limit:
            raise bad("message caption is too long" if caption else "message is too long")
        return parsed

    def _validate_markup(self, p: Params, *, inline_only: bool = False) -> dict | None:
        markup = p.json("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
            total = 0
            for row in rows:
                for b in row:
                    total += 1
                    if not isinstance(b, dict) or not isinstance(b.get("text"), str):
                        raise bad('can\'t parse inline keyboard button: Field "text" must be of type String')
                    actions = [k for k in _INLINE_ACTIONS if b.get(k) is not None]
                    if not actions:
                        raise bad(
                            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                        )
                    if "callback_data" in actions:
                        data = b["callback_data"]
                        if not isinstance(data, str) or not (1 <= len(data.encode("utf-8")) <= 64):
                            raise bad("BUTTON_DATA_INVALID")
                    if "url" in actions:
                        url = b["url"]
                        if not isinstance(url, str) or not re.match(r"^(https?|tg)://\S+$", url, re.I):
                            raise bad("BUTTON_URL_INVALID")
            if total > 100:
                raise bad("reply markup is too long")
            return {"inline_keyboard": rows}
        if inline_only:
            raise bad("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad("can't parse reply keyboard markup JSON object")
            for row in rows:
                for b in row:
                    if isinstance(b, str):
                        continue
                    if not isinstance(b, dict) or not isinstance(b.get("text"), str):
                        raise bad('can\'t parse keyboard button: Field "text" must be of type String')
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise bad("can't parse reply keyboard markup JSON object")

    def _reply_to(self, p: Params, chat: Chat) -> SimMessage | None:
        rp = p.json("reply_parameters")
        mid = None
        allow = p.bool("allow_sending_without_reply")
        if isinstance(rp, dict):
            mid = rp.get("message_id")
            allow = allow or bool(rp.get("allow_sending_without_reply"))
            target_chat_id = rp.get("chat_id")
            if target_chat_id is not None and target_chat_id != chat.id:
                other = self._chats.get(target_chat_id) if isinstance(target_chat_id, int) else None
                if other is None:
                    raise bad("chat not found")
                chat = other
        elif p.has("reply_to_message_id"):
            mid = p.int("reply_to_message_id")
        if mid is None:
            return None
        target = chat.by_id.get(int(mid))
        if target is None or target.deleted:
            if allow:
                return None
            raise bad("message to be replied not found")
        return target

    _SEND_OPTION_KEYS = (
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "link_preview_options",
        "disable_web_page_preview",
        "message_effect_id",
        "message_thread_id",
    )

    def _send_options(self, p: Params) -> dict:
        out = {}
        for k in self._SEND_OPTION_KEYS:
            if p.has(k):
                v = p.data[k]
                if k == "link_preview_options":
                    v = p.json(k)
                elif k in (
                    "disable_notification",
                    "protect_content",
                    "allow_paid_broadcast",
                    "disable_web_page_preview",
                ):
                    v = p.bool(k)
                out[k] = v
        return out

    def _m_getme(self, p: Params) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_logout(self, p: Params) -> bool:
        return True

    _m_close = _m_logout
    _m_setchatmenubutton = _m_logout
    _m_setmydescription = _m_logout
    _m_setmyshortdescription = _m_logout
    _m_setmyname = _m_logout

    def _m_getchatmenubutton(self, p: Params) -> dict:
        return {"type": "commands"}

    def _drop_pending_updates(self) -> None:
        self._updates.clear()
        self._delivered_upto = self._last_update_id

    def _m_setwebhook(self, p: Params) -> bool:
        if p.has("certificate"):
            raise bad("bad webhook: the sandbox does not take certificates")
        allowed = p.json("allowed_updates")
        self.webhook.set(
            p.str("url") or "",
            p.str("secret_token"),
            p.int("max_connections"),
            allowed if isinstance(allowed, list) else None,
        )
        if isinstance(allowed, list):
            self._allowed_updates = set(allowed) if allowed else None
        if p.bool("drop_pending_updates"):
            self._drop_pending_updates()
        self._wake_pollers()  # a pending getUpdates ends with 409, the webhook starts
        return True

    def _m_deletewebhook(self, p: Params) -> bool:
        self.webhook.delete()
        if p.bool("drop_pending_updates"):
            self._drop_pending_updates()
        return True

    def _m_getwebhookinfo(self, p: Params) -> dict:
        return self.webhook.info(len(self._updates))

    @staticmethod
    def _commands_key(p: Params) -> str:
        scope = p.json("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + (p.str("language_code") or "")

    def _m_setmycommands(self, p: Params) -> bool:
        cmds = p.json("commands")
        if not isinstance(cmds, list):
            raise bad("can't parse commands JSON object")
        if len(cmds) > 100:
            raise bad("too many commands")
        clean = []
        for c in cmds:
            if not isinstance(c, dict):
                raise bad("can't parse BotCommand")
            name = c.get("command", "")
            desc = c.get("description", "")
            if not isinstance(name, str) or not _BOT_COMMAND_RE.match(name):
                raise bad("BOT_COMMAND_INVALID")
            if not isinstance(desc, str) or not (1 <= len(desc) <= 256):
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": desc})
        self.commands[self._commands_key(p)] = clean
        return True

    def _m_getmycommands(self, p: Params) -> list:
        return self.commands.get(self._commands_key(p), [])

    def _m_deletemycommands(self, p: Params) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    async def _m_getupdates(self, p: Params) -> list:
        if self.webhook.active:
            raise ApiError(409, CONFLICT)
        offset = p.int("offset")
        limit = p.int("limit", 100) or 100
        limit = min(max(limit, 1), 100)
        timeout = p.float("timeout") or 0.0
        allowed = p.json("allowed_updates")
        if isinstance(allowed, list):
            new_allowed = set(allowed) if allowed else None
            if new_allowed != self._allowed_updates:
                self._allowed_updates = new_allowed
                if new_allowed is not None:
                    self._updates = deque(
                        u for u in self._updates if any(k in new_allowed for k in u if k != "update_id")
                    )
        self._confirm(offset)

        # Like Telegram, a newer getUpdates terminates an older pending one with 409.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._outage.mode is OutageMode.SERVER_ERRORS:
                # the gateway in front of the Bot API answers the polls it holds, too
                raise ApiError(502, "Bad Gateway")
            if self.webhook.active:
                raise ApiError(409, "Conflict: terminated by setWebhook request")
            if self._poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            result = list(self._take(limit))
            if result:
                break
            remaining = deadline - loop.time()
            if remaining <= 0 or self._stopping:
                break
            assert self._update_event is not None
            ev = self._update_event
            try:
                await asyncio.wait_for(ev.wait(), remaining)
            except TimeoutError:
                pass
        if result:
            self._delivered_upto = max(self._delivered_upto, result[-1]["update_id"])
            self._last_activity = time.monotonic()
            self._outage.updates_handed_out()
        return result

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        q = self._updates
        if offset > 0:
            while q and q[0]["update_id"] < offset:
                q.popleft()
        else:
            keep = -offset
            while len(q) > keep:
                q.popleft()

    def _take(self, limit: int):
        for i, u in enumerate(self._updates):
            if i >= limit:
                break
            yield u

    def _m_sendmessage(self, p: Params) -> dict:
        chat = self._get_chat(p)
        text = p.str("text")
        if text is None or text == "":
            raise bad("message text is empty")
        parsed = self._parse_text(text, p.str("parse_mode"))
        if not parsed.text:
            raise bad("message text is empty")
        markup = self._validate_markup(p)
        reply_to = self._reply_to(p, chat)
        self._check_rate(chat, p.bool("allow_paid_broadcast"))
        msg = self._deliver_bot_message(
            chat,
            html=text,
            text=parsed.text,
            entities=parsed.entities,
            parse_mode=p.str("parse_mode"),
            inline_markup=markup if markup and "inline_keyboard" in markup else None,
            reply_markup_sent=markup,
            reply_to=reply_to,
            params=self._send_options(p),
        )
        return msg.to_dict()

    def _find_message_to_edit(self, p: Params) -> SimMessage:
        if p.has("inline_message_id") and not p.has("chat_id"):
            raise bad("message to edit not found")
        chat = self._get_chat(p, for_send=False)
        mid = p.int("message_id")
        if mid is None:
            raise bad("message identifier is not specified")
        msg = chat.by_id.get(mid)
        if msg is None or msg.deleted:
            raise bad("message to edit not found")
        if not msg.from_bot:
            raise bad("message can't be edited")
        return msg

    def _m_editmessagetext(self, p: Params) -> dict:
        msg = self._find_message_to_edit(p)
        text = p.str("text")
        if text is None or text == "":
            raise bad("message text is empty")
        if msg.document is not None or msg.location is not None or msg.contact is not None:
            raise bad("there is no text in the message to edit")
        parsed = self._parse_text(text, p.str("parse_mode"))
        if not parsed.text:
            raise bad("message text is empty")
        markup = self._validate_markup(p, inline_only=True)
        if parsed.text == msg.text and parsed.entities == msg.entities and markup == msg.inline_markup:
            raise bad(NOT_MODIFIED[len("Bad Request: ") :])
        self._check_rate(msg.chat, False)  # an edit counts against the limits as a message does
        msg.html = text
        msg.text = parsed.text
        msg.entities = parsed.entities
        msg.parse_mode = p.str("parse_mode")
        msg.inline_markup = markup
        if msg.reply_markup_sent is None or "inline_keyboard" in msg.reply_markup_sent or markup:
            msg.reply_markup_sent = markup
        self._mark_edited(msg)
        return msg.to_dict()

    def _m_editmessagereplymarkup(self, p: Params) -> dict:
        msg = self._find_message_to_edit(p)
        markup = self._validate_markup(p, inline_only=True)
        if markup == msg.inline_markup:
            raise bad(NOT_MODIFIED[len("Bad Request: ") :])
        self._check_rate(msg.chat, False)
        msg.inline_markup = markup
        if msg.reply_markup_sent is None or "inline_keyboard" in msg.reply_markup_sent or markup:
            msg.reply_markup_sent = markup
        self._mark_edited(msg)
        return msg.to_dict()

    def _m_answercallbackquery(self, p: Params) -> bool:
        qid = p.str("callback_query_id")
        rec = self._callbacks.get(qid or "")
        if rec is None or rec["answered"]:
            raise bad(QUERY_TOO_OLD[len("Bad Request: ") :])
        text = p.str("text")
        if text is not None and len(text) > 200:
            raise bad("MESSAGE_TOO_LONG")
        rec["answered"] = True
        rec["text"] = text
        rec["show_alert"] = p.bool("show_alert")
        rec["url"] = p.str("url")
        self._bump()
        self._callback_answered(rec)
        return True

    def _m_senddocument(self, p: Params) -> dict:
        chat = self._get_chat(p)
        if "document" in p.files:
            filename, content, mime = p.files["document"]
            if not content:
                raise bad("file must be non-empty")
            self._file_counter += 1
            file_id = f"BQACAgIAAxkDAAI{self._file_counter:08d}"
            unique = f"AgAD{self._file_counter:06d}"
            file_path = f"documents/file_{self._file_counter}"
            self._files[file_id] = (filename, content, mime)
            self._file_paths[file_path] = file_id
            self._file_meta[file_id] = (unique, file_path)
        else:
            ref = p.str("document")
            if not ref:
                raise bad("there is no document in the request")
            if ref.startswith("attach://"):
                raise bad("wrong file identifier/HTTP URL specified")
            if ref not in self._files:
                raise bad("wrong file identifier/HTTP URL specified")
            file_id = ref
            filename, content, mime = self._files[ref]
            unique = self._file_meta[ref][0]
        caption = p.str("caption") or ""
        parsed = self._parse_text(caption, p.str("parse_mode"), caption=True) if caption else ParsedText("", [])
        markup = self._validate_markup(p)
        reply_to = self._reply_to(p, chat)
        self._check_rate(chat, p.bool("allow_paid_broadcast"))
        info: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_name": filename,
            "file_size": len(content),
        }
        if mime:
            info["mime_type"] = mime
        msg = self._deliver_bot_message(
            chat,
            html=caption,
            text=parsed.text,
            entities=parsed.entities,
            parse_mode=p.str("parse_mode"),
            inline_markup=markup if markup and "inline_keyboard" in markup else None,
            reply_markup_sent=markup,
            document=(filename, content),
            document_info=info,
            reply_to=reply_to,
            params=self._send_options(p),
        )
        return msg.to_dict()

    def _m_getfile(self, p: Params) -> dict:
        fid = p.str("file_id") or ""
        if fid not in self._files:
            raise bad("invalid file_id")
        _, content, _ = self._files[fid]
        unique, path = self._file_meta[fid]
        return {"file_id": fid, "file_unique_id": unique, "file_size": len(content), "file_path": path}

    def _m_sendlocation(self, p: Params) -> dict:
        chat = self._get_chat(p)
        lat = p.float("latitude")
        lon = p.float("longitude")
        if lat is None or not -90 <= lat <= 90:
            raise bad("wrong latitude")
        if lon is None or not -180 <= lon <= 180:
            raise bad("wrong longitude")
        markup = self._validate_markup(p)
        reply_to = self._reply_to(p, chat)
        self._check_rate(chat, p.bool("allow_paid_broadcast"))
        msg = self._deliver_bot_message(
            chat,
            location={"latitude": lat, "longitude": lon},
            inline_markup=markup if markup and "inline_keyboard" in markup else None,
            reply_markup_sent=markup,
            reply_to=reply_to,
            params=self._send_options(p),
        )
        return msg.to_dict()

    def _m_sendcontact(self, p: Params) -> dict:
        chat = self._get_chat(p)
        phone = p.str("phone_number")
        first = p.str("first_name")
        if not phone:
            raise bad("phone_number is empty")
        if not first:
            raise bad("first_name is empty")
        contact: dict[str, Any] = {"phone_number": phone, "first_name": first}
        if p.str("last_name"):
            contact["last_name"] = p.str("last_name")
        if p.str("vcard"):
            contact["vcard"] = p.str("vcard")
        markup = self._validate_markup(p)
        reply_to = self._reply_to(p, chat)
        self._check_rate(chat, p.bool("allow_paid_broadcast"))
        msg = self._deliver_bot_message(
            chat,
            contact=contact,
            inline_markup=markup if markup and "inline_keyboard" in markup else None,
            reply_markup_sent=markup,
            reply_to=reply_to,
            params=self._send_options(p),
        )
        return msg.to_dict()

    def _m_sendchataction(self, p: Params) -> bool:
        self._get_chat(p)
        action = p.str("action")
        if action not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        return True

    def _m_deletemessage(self, p: Params) -> bool:
        chat = self._get_chat(p, for_send=False)
        mid = p.int("message_id")
        msg = chat.by_id.get(mid) if mid is not None else None
        if msg is None or msg.deleted:
            raise bad("message to delete not found")
        if not msg.from_bot and chat.type != "private":
            raise bad("message can't be deleted")
        msg.deleted = True
        del chat.by_id[msg.message_id]
        chat.messages.remove(msg)
        if msg.from_bot:
            chat.bot_messages.remove(msg)
        self._bump(chat)
        return True

    def _m_getchat(self, p: Params) -> dict:
        chat = self._get_chat(p, for_send=False)
        return {
            **chat.as_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
