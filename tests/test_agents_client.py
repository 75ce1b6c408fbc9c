"""Model access for the agents: configuration precedence, the no-model error, retries,
token accounting. Every test talks to tests/fake_openai.py with the real openai client."""

from __future__ import annotations

import socket

import openai
import pytest
from fake_openai import Error, FakeOpenAI, clean_model_env_fixture, fake_openai_fixture  # noqa: F401 (fixtures)
from lecture.agents.client import ModelCallError, ModelClient, image_part, make_client
from lecture.agents.config import (
    NO_MODEL_MESSAGE,
    PLACEHOLDER_KEY,
    AgentConfigError,
    resolve_config,
    trust_repository_config,
)
from lecture.agents.usage import AgentUsage, CallRecord, UsageLog

FAST = {"backoff_base": 0.001}
HELLO = [{"role": "user", "content": "hello"}]


def client_for(server: FakeOpenAI, agent: str = "planner", usage: UsageLog | None = None,
               **kwargs) -> ModelClient:
    config = resolve_config(base_url=server.base_url, **{**FAST, **kwargs})
    return make_client(config, agent, usage)


# ------------------------------------------------------------------ configuration

def test_precedence_flag_over_env_over_toml(clean_model_env, tmp_path):
    (tmp_path / "lecture.toml").write_text(
        '[model]\nbase_url = "http://toml.invalid/v1"\nmodel = "toml-model"\napi_key_env = "MY_KEY"\n'
        '[coder]\nmodel = "toml-coder"\n', encoding="utf-8")
    sub = tmp_path / "lessons" / "deep"
    sub.mkdir(parents=True)
    clean_model_env.chdir(sub)  # lecture.toml is found in a parent folder
    trust_repository_config(tmp_path / "lecture.toml")  # else its base_url, api_key_env are ignored

    config = resolve_config()
    assert config.config_file == tmp_path / "lecture.toml"
    planner, coder = config.for_agent("planner"), config.for_agent("coder")
    assert (planner.base_url, planner.model) == ("http://toml.invalid/v1", "toml-model")
    assert coder.model == "toml-coder"  # a per-agent table beats [model]
    assert planner.api_key == PLACEHOLDER_KEY  # MY_KEY is unset; a server given by URL needs none

    clean_model_env.setenv("MY_KEY", "key-from-named-variable")
    clean_model_env.setenv("OPENAI_BASE_URL", "http://env.invalid/v1")
    clean_model_env.setenv("LECTURE_MODEL", "env-model")
    clean_model_env.setenv("LECTURE_CRITIC_MODEL", "env-critic")
    config = resolve_config()
    assert config.for_agent("planner").api_key == "key-from-named-variable"
    assert config.for_agent("planner").base_url == "http://env.invalid/v1"
    assert config.for_agent("planner").model == "env-model"
    assert config.for_agent("coder").model == "env-model"  # environment beats lecture.toml
    assert config.for_agent("critic").model == "env-critic"  # per-agent variable beats LECTURE_MODEL
    assert config.for_agent("planner").sources["model"] == "LECTURE_MODEL"

    config = resolve_config(base_url="http://flag.invalid/v1", api_key="flag-key", model="flag-model")
    for agent in ("planner", "coder", "critic"):
        c = config.for_agent(agent)
        assert (c.base_url, c.api_key, c.model) == ("http://flag.invalid/v1", "flag-key", "flag-model")


def test_flags_reach_the_server(fake_openai):
    fake_openai.add("hi")
    config = resolve_config(base_url=fake_openai.base_url + "/", api_key="secret-1", model="m-flag", **FAST)
    reply = make_client(config, "planner").chat(HELLO)
    assert reply.text == "hi"
    (request,) = fake_openai.chat_requests
    assert request.body["model"] == "m-flag"
    assert request.headers["authorization"] == "Bearer secret-1"
    assert request.messages == HELLO


def test_local_server_needs_no_key_and_names_its_model(fake_openai):
    fake_openai.model_ids = ["served-model", "other"]
    fake_openai.add("ok")
    client = client_for(fake_openai)
    assert client.chat(HELLO).text == "ok"
    assert [r.path for r in fake_openai.requests] == ["/v1/models", "/v1/chat/completions"]
    assert fake_openai.chat_requests[0].body["model"] == "served-model"
    assert fake_openai.chat_requests[0].headers["authorization"] == f"Bearer {PLACEHOLDER_KEY}"


def test_no_model_configured_is_a_clear_error(clean_model_env):
    config = resolve_config()
    with pytest.raises(AgentConfigError) as info:
        make_client(config, "planner")
    assert str(info.value) == NO_MODEL_MESSAGE
    assert str(info.value) == ("no model configured: set OPENAI_API_KEY or --base-url (or LECTURE_MODEL / "
                               "lecture.toml); `lecture render` works without a model")


def test_hosted_api_key_alone_is_enough(clean_model_env):
    clean_model_env.setenv("OPENAI_API_KEY", "sk-test")
    c = resolve_config().for_agent("planner")
    assert c.base_url is None and c.api_key == "sk-test" and c.model


def test_bad_lecture_toml_is_a_config_error(clean_model_env, tmp_path):
    (tmp_path / "lecture.toml").write_text('[model]\napi_key = "sk-oops"\n', encoding="utf-8")
    with pytest.raises(AgentConfigError, match="keys do not belong in lecture.toml"):
        resolve_config()
    (tmp_path / "lecture.toml").write_text("[model\n", encoding="utf-8")
    with pytest.raises(AgentConfigError, match="not valid TOML"):
        resolve_config()


# ------------------------------------------------------------------ retries and errors

def test_retry_on_429_and_5xx_then_success(fake_openai):
    fake_openai.add(429, Error(503, retry_after=0), "finally")
    usage = UsageLog()
    delays: list[float] = []
    config = resolve_config(base_url=fake_openai.base_url, model="m", **FAST).for_agent("planner")
    client = ModelClient(config, usage, sleep=delays.append)
    assert client.chat(HELLO).text == "finally"
    assert len(fake_openai.chat_requests) == 3
    assert len(delays) == 2 and 0.001 <= delays[0] < delays[1] <= 0.0023  # 0.001, 0.002 (+10% jitter)
    (record,) = usage.records
    assert record.attempts == 3 and record.ok
    assert "2 retries" in usage.summary()


def test_retries_are_bounded(fake_openai):
    fake_openai.add(500, 500, 500, "never reached")
    client = client_for(fake_openai, model="m", max_retries=2)
    with pytest.raises(ModelCallError, match="failed after 3 tries: 500: scripted error"):
        client.chat(HELLO)
    assert len(fake_openai.chat_requests) == 3
    assert client.usage.per_agent()["planner"].failed_calls == 1


def test_client_errors_are_not_retried(fake_openai):
    fake_openai.add(Error(401, "bad key"), "never reached")
    client = client_for(fake_openai, model="m")
    with pytest.raises(ModelCallError, match="refused the API key .*401: bad key"):
        client.chat(HELLO)
    assert len(fake_openai.chat_requests) == 1


def test_connection_errors_are_retried(clean_model_env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nothing listens there
    client = make_client(resolve_config(base_url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=2,
                                        timeout=5, **FAST), "coder")
    with pytest.raises(ModelCallError, match="failed after 3 tries: cannot connect"):
        client.chat(HELLO)


def test_json_mode_falls_back_when_the_server_refuses_json_schema(fake_openai):
    fake_openai.add(Error(400, "response_format json_schema is not supported"), '{"a": 1}', '{"b": 2}')
    client = client_for(fake_openai, model="m")
    schema = {"type": "object"}
    assert client.chat_json(HELLO, schema, "thing").text == '{"a": 1}'
    assert client.chat_json(HELLO, schema, "thing").text == '{"b": 2}'
    formats = [r.body.get("response_format") for r in fake_openai.chat_requests]
    assert formats[0] == {"type": "json_schema",
                          "json_schema": {"name": "thing", "schema": schema, "strict": False}}
    assert formats[1:] == [{"type": "json_object"}, {"type": "json_object"}]  # the working mode is kept


def test_image_parts_and_speech(fake_openai):
    fake_openai.add("a triangle")
    client = client_for(fake_openai, model="vision")
    content = [{"type": "text", "text": "what is drawn?"}, image_part("data:image/png;base64,iVBORw0KGgo=")]
    assert client.chat([{"role": "user", "content": content}]).text == "a triangle"
    part = fake_openai.chat_requests[0].messages[0]["content"][1]
    assert part["image_url"]["url"].startswith("data:image/png")

    raw = openai.OpenAI(base_url=fake_openai.base_url, api_key="x", max_retries=0)
    audio = raw.audio.speech.create(model="tts", voice="alloy", input="hello", response_format="wav")
    assert audio.content == fake_openai.speech_wav and audio.content[:4] == b"RIFF"


# ------------------------------------------------------------------ usage

def test_token_accounting_adds_up_across_calls(fake_openai):
    usage = UsageLog()
    fake_openai.add("one", usage=(1000, 200))
    fake_openai.add(429)
    fake_openai.add("two", usage=(234, 367))
    fake_openai.add("code", usage=(7, 3))
    planner = client_for(fake_openai, "planner", usage, model="m")
    coder = client_for(fake_openai, "coder", usage, model="m")
    planner.chat(HELLO)
    planner.chat(HELLO)
    coder.chat(HELLO)

    agents = usage.per_agent()
    assert (agents["planner"].calls, agents["planner"].prompt_tokens, agents["planner"].completion_tokens) \
        == (2, 1234, 567)
    coder_usage = agents["coder"]
    assert (coder_usage.calls, coder_usage.prompt_tokens, coder_usage.completion_tokens) == (1, 7, 3)
    lines = usage.summary_lines()
    assert lines[0].startswith("planner: 2 calls, 1,234 prompt + 567 completion tokens, ")
    assert lines[0].endswith(" s (1 retry)")
    assert lines[1].startswith("coder: 1 call, 7 prompt + 3 completion tokens, ")

    data = usage.to_json()
    assert data["total"]["prompt_tokens"] == 1241 and data["total"]["completion_tokens"] == 570
    assert data["total"]["total_tokens"] == 1811 and data["total"]["calls"] == 3
    assert data["agents"]["planner"]["retries"] == 1
    assert [c["prompt_tokens"] for c in data["calls"]] == [1000, 234, 7]
    assert abs(data["total"]["seconds"] - sum(c["seconds"] for c in data["calls"])) < 0.01


def test_summary_line_format():
    usage = AgentUsage()
    for p, c, s in [(1000, 500, 2.0), (200, 60, 1.1), (34, 7, 1.1)]:
        usage.add(CallRecord("planner", "m", p, c, s))
    assert usage.line("planner") == "planner: 3 calls, 1,234 prompt + 567 completion tokens, 4.2 s"
    assert UsageLog().summary() == ""

