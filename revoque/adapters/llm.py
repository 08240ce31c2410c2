"""Text generation for the shopping assistant: Gemini through ``google-genai`` when GEMINI_API_KEY is
set, otherwise none (the assistant's offline composer answers).

The interface is deliberately small: ``stream(system, messages, tools)`` yields text pieces as they
are generated and the function calls the model asks for. Running those functions is the caller's
job (with the shopper's own permissions); their results go back as ``tool`` messages in the next
call. Nothing vendor-specific leaves this module.

Every failure (rate limit 429, overload 503, a timeout, a refused key, the network) is raised as
``LlmUnavailable`` with the HTTP status when there was one, so the assistant can fall back to its
offline composer for that answer and the shopper never sees a stack trace. The client never retries
by itself: a retry with backoff would keep the shopper waiting longer than the fallback does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from revoque.errors import RevoqueError
from revoque.settings import get_settings

log = logging.getLogger(__name__)

GEMINI_API_VERSION = "v1beta"
MAX_OUTPUT_TOKENS = 800  # answers are meant to be a few sentences
TEMPERATURE = 0.2  # grounded answers, not creative writing


class LlmUnavailable(RevoqueError):
    """The model could not answer (rate limited, overloaded, timed out, refused, unreachable)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call; ``parameters`` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    name: str
    args: dict[str, Any]
    id: str = ""
    signature: bytes | None = None  # Gemini's thought signature, sent back with the call as it came


@dataclass(frozen=True)
class LlmMessage:
    """One turn: the shopper's (``user``), the model's (``model``, text and/or calls) or the result
    of one call (``tool``: ``tool_name`` and ``tool_result``)."""

    role: str
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_name: str = ""
    tool_result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LlmChunk:
    """A piece of the answer: some text, or one function call."""

    text: str = ""
    tool_call: ToolCall | None = None


class Llm(Protocol):
    name: str

    def stream(self, system: str, messages: Sequence[LlmMessage], tools: Sequence[ToolSpec]) -> Iterator[LlmChunk]:
        """Generate the next model turn; raises LlmUnavailable (possibly after some chunks)."""
        ...


class GeminiLlm:
    """Gemini's ``streamGenerateContent`` over server-sent events, with function declarations."""

    name = "gemini"

    def __init__(self, api_key: str, model: str, base_url: str = "", timeout_seconds: int = 20) -> None:
        from google import genai
        from google.genai import types

        self.model = model
        http_options = types.HttpOptions(
            base_url=base_url or None, api_version=GEMINI_API_VERSION, timeout=timeout_seconds * 1000
        )
        self._client = genai.Client(api_key=api_key, http_options=http_options)

    def stream(self, system: str, messages: Sequence[LlmMessage], tools: Sequence[ToolSpec]) -> Iterator[LlmChunk]:
        from google.genai import types

        config = types.GenerateContentConfig(
            system_instruction=system,
            temperature=TEMPERATURE,
            max_output_tokens=MAX_OUTPUT_TOKENS,
            tools=[types.Tool(function_declarations=[_declaration(tool) for tool in tools])] if tools else None,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        contents = [_content(message) for message in messages]
        try:
            for response in self._client.models.generate_content_stream(
                model=self.model, contents=contents, config=config
            ):
                yield from _chunks(response)
        except _vendor_errors() as exc:
            raise _unavailable(exc) from exc


def _vendor_errors() -> tuple[type[BaseException], ...]:
    """What a failed call raises: the SDK's API errors, and httpx's or httpx2's transport errors
    (timeouts, refused connections), whichever the SDK uses for this call."""
    import httpx
    from google.genai import errors

    found: list[type[BaseException]] = [errors.APIError, httpx.HTTPError]
    try:
        import httpx2

        found.append(httpx2.HTTPError)
    except ImportError:
        pass
    return tuple(found)


def _declaration(tool: ToolSpec) -> Any:
    from google.genai import types

    return types.FunctionDeclaration(
        name=tool.name, description=tool.description, parameters_json_schema=tool.parameters
    )


def _content(message: LlmMessage) -> Any:
    from google.genai import types

    if message.role == "tool":
        response = types.FunctionResponse(name=message.tool_name, response=message.tool_result)
        return types.Content(role="user", parts=[types.Part(function_response=response)])
    parts = [types.Part(text=message.text)] if message.text else []
    parts += [
        types.Part(
            function_call=types.FunctionCall(name=call.name, args=call.args, id=call.id or None),
            thought_signature=call.signature,
        )
        for call in message.tool_calls
    ]
    return types.Content(role="model" if message.role == "model" else "user", parts=parts)


def _chunks(response: Any) -> Iterator[LlmChunk]:
    for candidate in response.candidates or []:
        content = candidate.content
        for part in (content.parts if content else None) or []:
            if part.function_call is not None:
                call = part.function_call
                yield LlmChunk(
                    tool_call=ToolCall(call.name or "", dict(call.args or {}), call.id or "", part.thought_signature)
                )
            elif part.text and not part.thought:
                yield LlmChunk(text=part.text)


def _unavailable(exc: Exception) -> LlmUnavailable:
    """One error type for every way the call can fail, keeping the HTTP status when there was one."""
    from google.genai import errors

    if isinstance(exc, errors.APIError):
        reason = {429: "rate limited", 503: "overloaded"}.get(exc.code, "refused the request")
        return LlmUnavailable(f"Gemini {reason} ({exc.code}): {exc.message or exc.status or ''}".strip(), exc.code)
    name = type(exc).__name__
    if "Timeout" in name:
        return LlmUnavailable(f"Gemini timed out ({name})")
    return LlmUnavailable(f"Gemini could not be reached ({name}: {exc})")


@lru_cache(maxsize=1)
def get_llm() -> Llm | None:
    """Gemini when GEMINI_API_KEY is set, else None: the assistant then answers with its offline
    composer. Tests call ``get_llm.cache_clear()`` after changing settings."""
    settings = get_settings()
    key = settings.gemini_api_key.strip()
    if not key:
        return None
    model, base_url = settings.gemini_model.strip(), settings.gemini_base_url.strip()
    return GeminiLlm(key, model, base_url, settings.gemini_timeout_seconds)
