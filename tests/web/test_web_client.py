"""The web client at `/`, in real Chromium: speaking through its (fake) microphone, typing, barging in."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.speech import espeak_speech, padded, words
from tests.web.browser import DroppingProxy, chromium, client_state, open_page, wait_for, write_wav
from tests.web.conftest import Start
from voxhub.audio import PcmAudio

# The fake microphone loops its file: the long silence at the end keeps a test's speech from coming round again.
LOOP_GUARD_MS = 60_000


def microphone_file(tmp_path: Path, *parts: PcmAudio | float) -> Path:
    """A WAV for the fake microphone: speech clips and pauses (in ms), then a long silence."""
    audio = PcmAudio.silence(1500, 16000)
    for part in parts:
        audio += part if isinstance(part, PcmAudio) else PcmAudio.silence(part, 16000)
    return write_wav(padded(audio, before_ms=0, after_ms=LOOP_GUARD_MS), tmp_path / "microphone.wav")


@pytest.mark.slow
async def test_a_spoken_question_is_transcribed_answered_aloud_and_lip_synced(
    start: Start, tmp_path: Path
) -> None:
    microphone = microphone_file(tmp_path, espeak_speech("What is the capital of France?"))
    async with start() as url, chromium(microphone) as browser:
        page = await open_page(browser, url + "/")
        await wait_for(page, "state.turns.length > 0", 90)  # the answer's first sound played
        answered = "state.events.lastIndexOf('response') > state.events.indexOf('speech_stopped')"
        played = "state.playback.played_samples >= state.playback.received_samples"
        await wait_for(page, f"{answered} && {played}", 60)
        state = await client_state(page)
        said = await page.locator("#log li.user").last.inner_text()
        answer = await page.locator("#log li.assistant").last.inner_text()

    assert {"capital", "france"} <= set(words(said))
    assert answer.strip()
    assert state["playback"]["received_samples"] > 0
    assert state["playback"]["played_samples"] >= state["playback"]["received_samples"]
    assert state["playback"]["underruns"] == 0
    assert state["avatar"]["visemes_shown"] >= 5  # the mouth moved with the speech
    assert len(state["avatar"]["shapes"]) >= 4
    (timing,) = state["turns"]
    assert 0 < timing["endpoint_ms"] <= timing["first_audio_ms"] <= timing["end_of_speech_to_first_sound_ms"]
    assert page.errors == []  # type: ignore[attr-defined]


@pytest.mark.slow
async def test_a_typed_turn_in_text_to_text_mode_is_answered_in_text_only(start: Start) -> None:
    async with start() as url, chromium() as browser:
        page = await open_page(browser, url + "/?mic=off")
        await wait_for(page, "state.connection === 'open'")
        await page.get_by_label("Voice in").uncheck()
        await page.get_by_label("Voice out").uncheck()
        await wait_for(page, "state.events.filter((type) => type === 'mode_changed').length >= 2")
        await page.get_by_label("Message").fill("What is two plus two?")
        await page.keyboard.press("Enter")
        await wait_for(
            page, "state.events.lastIndexOf('response') > state.events.lastIndexOf('mode_changed')", 60
        )
        state = await client_state(page)
        answer = await page.locator("#log li.assistant").last.inner_text()
        mic_pressable = await page.locator("#mic").is_enabled()

    since_text_mode = state["events"][state["events"].index("mode_changed") :]
    assert answer.strip()
    assert "response_delta" in since_text_mode
    assert "audio_start" not in since_text_mode
    assert not mic_pressable  # voice input is off


@pytest.mark.slow
async def test_the_face_takes_on_the_emotion_of_the_users_turn(start: Start) -> None:
    async with start() as url, chromium() as browser:
        page = await open_page(browser, url + "/?mic=off")
        await wait_for(page, "state.connection === 'open'")
        await page.get_by_label("Voice out").uncheck()
        await page.get_by_label("Message").fill("I got the job, I am so happy today!")
        await page.keyboard.press("Enter")
        await wait_for(page, "state.events.includes('emotion')", 60)
        label = await page.locator("#emotion").inner_text()

    assert label == "joy"


@pytest.mark.slow
async def test_speaking_over_the_answer_stops_it_and_the_new_question_is_answered(
    start: Start, tmp_path: Path
) -> None:
    microphone = microphone_file(
        tmp_path,
        espeak_speech("Tell me a long story about a dragon and a knight."),
        7000,  # the story is being told by now
        espeak_speech("What is two plus two?"),
    )
    async with start() as url, chromium(microphone) as browser:
        page = await open_page(browser, url + "/")
        await wait_for(page, "state.events.includes('interrupted')", 90)
        await wait_for(page, "state.events.includes('audio_played')", 10)
        await wait_for(page, "state.events.filter((type) => type === 'audio_start').length >= 2", 90)
        state = await client_state(page)
        said = await page.locator("#log li.user").all_inner_texts()
        cut = await page.locator("#log li.assistant.interrupted").count()

    assert "dragon" in words(said[0])
    assert "plus" in words(said[1])
    assert cut == 1
    stop = state["stops"][-1]  # the story (a greeting cut by the question would come first)
    assert 0 < stop["played_ms"] < stop["sent_ms"]  # playback stopped before the audio sent ran out
    assert "page" in [pause["by"] for pause in state["pauses"]]  # hushed on hearing speech, before the server


@pytest.mark.slow
async def test_a_second_tab_is_told_the_server_is_at_capacity(start: Start) -> None:
    async with start(max_connections=1) as url, chromium() as browser:
        first = await open_page(browser, url + "/?mic=off")
        await wait_for(first, "state.connection === 'open'")
        second = await open_page(browser, url + "/?mic=off")
        await wait_for(second, "state.closes.length > 0")
        status = await second.locator("#status").inner_text()
        first_status = await first.locator("#status").inner_text()

    assert "capacity" in status
    assert first_status == "Connected"


@pytest.mark.slow
async def test_a_wrong_token_is_explained_and_never_left_in_the_address_bar(start: Start) -> None:
    async with start(auth_token="right-token") as url, chromium() as browser:
        page = await open_page(browser, url + "/?mic=off&token=wrong-token")
        await wait_for(page, "state.closes.length > 0")
        status = await page.locator("#status").inner_text()
        address = page.url
        await page.get_by_label("Access token").fill("right-token")
        await page.get_by_role("button", name="Connect").click()
        await wait_for(page, "state.connection === 'open'")
        profiles = await page.locator("#profile option").all_inner_texts()

    assert "token" in status
    assert "wrong-token" not in address
    assert "vad-triggered" in profiles


async def test_the_web_client_is_served_at_the_root_to_browsers_only(start: Start) -> None:
    async with start() as url, httpx.AsyncClient(base_url=url) as http:
        page = await http.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
        links = await http.get("/", headers={"Accept": "application/json"})
        script = await http.get("/web/app.js")

    assert page.status_code == 200
    assert "<title>voxhub</title>" in page.text
    assert links.json()["name"] == "voxhub"
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


async def test_the_web_packages_python_source_is_not_served(start: Start) -> None:
    async with start() as url, httpx.AsyncClient(base_url=url) as http:
        source = await http.get("/web/__init__.py")
        climbing = await http.get("/web/../__init__.py")

    assert source.status_code == 404
    assert climbing.status_code == 404


@pytest.mark.slow
async def test_behind_a_path_prefix_the_page_finds_its_files_the_api_and_the_socket(
    start_behind_prefix: Start,
) -> None:
    async with start_behind_prefix() as url, chromium() as browser:
        page = await open_page(browser, url + "/?mic=off")
        await wait_for(page, "state.connection === 'open'")
        await page.get_by_label("Message").fill("Hello!")
        await page.keyboard.press("Enter")
        await wait_for(page, "state.events.includes('response_delta')", 60)
        profiles = await page.locator("#profile option").all_inner_texts()

    assert "vad-triggered" in profiles
    assert page.errors == []  # type: ignore[attr-defined]


@pytest.mark.slow
async def test_a_dropped_connection_is_reopened_on_the_same_session(start: Start) -> None:
    async with start() as url, DroppingProxy(urlsplit(url).port or 80) as proxy, chromium() as browser:
        page = await open_page(browser, f"http://127.0.0.1:{proxy.port}/?mic=off")
        await wait_for(page, "state.connection === 'open'")
        first_session = (await client_state(page))["sessionId"]
        proxy.drop()  # the network fails under the open socket
        await wait_for(page, "state.closes.length > 0", 10)
        await wait_for(page, "state.connection === 'open'", 10)
        state = await client_state(page)

    assert state["closes"][0]["code"] == 1006  # no closing handshake: a real drop
    assert state["sessionId"] == first_session


@pytest.mark.slow
async def test_an_idle_page_stays_closed_until_the_user_reconnects(start: Start) -> None:
    async with start(connection_timeout_secs=1) as url, chromium() as browser:
        page = await open_page(browser, url + "/?mic=off")  # silent, so the server lets it go after 1 s
        await wait_for(page, "state.closes.length > 0", 10)
        await page.wait_for_timeout(2500)  # longer than the first reconnect delay
        idle = await client_state(page)
        status = await page.locator("#status").inner_text()
        await page.get_by_role("button", name="Connect").click()
        await wait_for(page, "state.connection === 'open'", 10)

    assert idle["closes"][0]["code"] == 1001
    assert idle["connection"] != "open"
    assert "press Connect" in status
