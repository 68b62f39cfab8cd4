"""A coordinator's alert from composing to closing, through the sandbox."""

from __future__ import annotations

import asyncio

import pytest

from bot.sandbox.scenarios import register_in_latvia
from tests.conftest import COORDINATOR_ID


@pytest.mark.parametrize("telegram_mode", ["polling", "webhook"])
async def test_one_line_alert_quota_and_close(sandbox, bot):
    people = [sandbox.user(200 + i, f"V{i}", language_code="en") for i in range(3)]
    await asyncio.gather(*(register_in_latvia(u, lang="en", place="Ogre") for u in people))
    outsider = sandbox.user(300, "Far", language_code="en")
    await register_in_latvia(outsider, lang="en", place="Liepāja")

    coord = sandbox.user(COORDINATOR_ID, "Kārlis", "Koordinators", language_code="en")
    await coord.send("/alert skills=first_aid areas=Ogre need=2 We need first aid <b>now</b> & fast")
    preview = await coord.wait_for("Preview")
    assert "3 people will receive it" in preview.text
    assert "We need first aid <b>now</b> & fast" in preview.text
    assert preview.buttons[0][0][0].startswith("🚀 Send to 3")
    await coord.press("🚀 Send to 3")
    tracking = await coord.wait_for("📤 Delivery")

    for u in people:
        msg = await u.wait_for("We need first aid")
        assert "URGENT" in msg.text and "From: Kārlis Koordinators, LAPAS" in msg.text
        assert [b for row in msg.buttons for b, _ in row] == [
            "✅ I can help",
            "🕐 Ready in 30 min",
            "🕑 Ready in 2 h",
            "❌ I can't",
        ]
    assert outsider.messages[-1].text.startswith("🎉") or "first aid" not in outsider.last.text

    await people[0].press("I can help")
    await people[0].wait_for("You are confirmed")
    await people[1].press("Ready in 30 min")
    await people[1].wait_for("You are confirmed")
    await people[2].press("I can help")
    await people[2].wait_for("on standby")

    await coord.wait_for_edit(tracking, "accepted 2 · declined 0 · standby 1", timeout=5)

    # an accepted person withdraws: the first standby person moves up and is told
    await people[0].press("I can't")
    await people[0].wait_for("can't help this time")
    await people[2].wait_for("A place opened up")
    alert_msg = next(m for m in people[2].messages if "We need first aid" in m.text)
    await people[2].wait_for_edit(alert_msg, lambda m: "You are confirmed" in m.text and "standby" not in m.text)
    assert alert_msg.button_labels[0] == "✅ I can help"  # the answer can still be changed

    await coord.send("/followup 1 Meet at the Ogre fire station at 18:00")
    await coord.wait_for("Sending to 2 people")
    for u in (people[1], people[2]):
        await u.wait_for("Meet at the Ogre fire station")

    await coord.send("/close 1")
    await coord.wait_for("closed")
    await people[1].wait_for("is closed. Thank you for your help")
    late = await people[0].press("I can help")
    answer = await people[0].wait_answered(late)
    assert "closed" in answer["text"]
    # the tracking message was edited as things changed, never with the same content again
    await asyncio.sleep(1.2)  # two more refresh intervals with nothing new
    assert sandbox.count("editMessageText", 200) >= 3
    assert not [c for c in sandbox.calls if c.status == 400 and c.chat_id == COORDINATOR_ID]
