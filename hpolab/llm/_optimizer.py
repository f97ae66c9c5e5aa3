"""LLMOptimizer: an LLM proposes each configuration from the problem description and the history."""

from __future__ import annotations

import dataclasses
import logging
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from hpolab._deprecation import renamed_keyword
from hpolab.llm._context import context_tokens, count_prompt_tokens
from hpolab.llm._extract import compact_schema
from hpolab.llm._options import DecodingOptions, DuplicateOptions, PromptOptions, resolve_options
from hpolab.llm._prompts import (
    DEFAULT_TEMPLATES,
    ClassicState,
    HistoryEntry,
    PromptTemplates,
    chat_messages,
    classic_state_text,
    compact_templates,
    compressed_messages,
    format_config,
    initial_message,
)
from hpolab.llm._propose import prompt_fingerprint, propose_config
from hpolab.llm.clients._base import LLMClient, LLMClientError, default_client, make_client
from hpolab.llm.clients._usage import LLMUsage
from hpolab.optimizers._base import Optimizer, OptimizerError, Proposal
from hpolab.space import SearchSpace
from hpolab.trial import Direction, Trial, TrialResult, TrialState

__all__ = ["LLMOptimizer", "client_session", "default_client"]

_logger = logging.getLogger("hpolab.llm.optimizer")


def client_session(client: Any) -> str:
    """A token naming this client object for as long as it lives (recorded with each trial's LLM metadata).

    Trials made through another client (another process, another worker's client) carry another
    token; their stored cost counts against ``max_cost`` of this one.
    """
    token = getattr(client, "_hpolab_session", None)
    if not isinstance(token, str):
        token = uuid.uuid4().hex[:12]
        try:
            client._hpolab_session = token
        except AttributeError:  # a client that takes no attributes: one token per call site is still distinct
            return f"id{id(client):x}"
    return token


class LLMOptimizer(Optimizer):
    """A large language model proposes every configuration.

    The prompt holds the system prompt, the problem description, the search space (from
    :meth:`SearchSpace.describe`), the budget sentence and the history of tried configurations
    with their losses written ``{loss:.4e}`` (templates in :mod:`hpolab.llm._prompts`).
    ``mode="chat"`` sends the whole dialogue (one assistant message per proposal, one user
    message per result); ``mode="compressed"`` sends one user message holding the whole
    history. ``chain_of_thought=True`` asks for "Analysis: ... / Config: ...". The last proposal
    of the budget is prefaced with "This is the last try.".

    Every answer goes through :func:`hpolab.llm.propose_config`: parse -> validate -> repair,
    one re-ask quoting the error, then a random sample as fallback; a proposal equal to a
    configuration already evaluated (or pending, or running on another worker) is perturbed at
    once (``on_duplicate="perturb"``, the default), or first re-asked naming the evaluated
    configurations as forbidden (``on_duplicate="reask"``); inside ``llm-hybrid``,
    ``on_duplicate="delegate"`` has the core answer a duplicate at once. What happened is counted in
    each trial's ``metadata["llm"]`` and in :attr:`stats`; the metadata also holds the transcript
    of the trial's own calls (answers, tokens, latency, the messages a re-ask added) and, under
    ``"prompt"``, what the prompt held (its SHA-256 and length, the history entries shown and left
    out, the tokens counted) rather than a copy of it, so stored bytes per trial do not grow with
    the study; :meth:`build_messages` rebuilds the next prompt. On resume the stored answers
    restore the dialogue without calling the model.

    Every prompt fits the model's context (:attr:`PromptOptions.context_tokens
    <hpolab.llm.PromptOptions>`) with room for the answer and a re-ask, counted by the client's
    tokenizer where it has one (see :mod:`hpolab.llm._context`): the oldest history entries are
    left out first, the :attr:`KEEP_BEST` best never before the others, and the prompt says how
    many were left out and their range of values.

    Inside :class:`~hpolab.llm.HybridOptimizer` the hybrid calls :meth:`set_classic` before each
    ask: the prompt then carries the classic optimizer's state (incumbent, top configurations,
    its own next proposal; the Centaur idea), the model may decline and keep that proposal when
    the hybrid allows it, and the classic optimizer answers instead of the random and
    perturbation fallbacks.

    The options come in three groups, each a small frozen dataclass that documents its fields:
    :class:`~hpolab.llm.PromptOptions` (``mode``, ``chain_of_thought``, ``description``,
    ``n_trials``, ``system_prompt``, ``templates``, ``metric``, ``max_history``, ``context_tokens``),
    :class:`~hpolab.llm.DecodingOptions` (``temperature``, ``reask_temperature``, ``max_tokens``,
    ``structured_output``, ``answer_format``) and :class:`~hpolab.llm.DuplicateOptions` (``on_duplicate``). Every
    field is also a keyword of its own; one given beside its group replaces that field, and one
    left at ``None`` keeps the group's value (or its default).

    Args:
        space: The search space.
        client: The model; ``None`` builds one at the first ask with :func:`hpolab.llm.make_client`:
            an :class:`OpenAIClient` if ``base_url`` is given, an in-process :class:`LlamaCppClient`
            if ``model`` names a ``.gguf`` file, else the default SmolLM2-135M-Instruct through llama.cpp.
        prompt: What the prompt says (a :class:`~hpolab.llm.PromptOptions` or a dict of its fields).
        decoding: How answers are sampled (a :class:`~hpolab.llm.DecodingOptions` or a dict).
        duplicates: What happens to a duplicate (a :class:`~hpolab.llm.DuplicateOptions` or a dict).
        mode: :attr:`PromptOptions.mode <hpolab.llm.PromptOptions>`.
        chain_of_thought: :class:`~hpolab.llm.PromptOptions` field.
        description: :class:`~hpolab.llm.PromptOptions` field.
        n_trials: :class:`~hpolab.llm.PromptOptions` field.
        budget: Deprecated old name of ``n_trials``.
        system_prompt: :class:`~hpolab.llm.PromptOptions` field.
        templates: :class:`~hpolab.llm.PromptOptions` field.
        metric: :class:`~hpolab.llm.PromptOptions` field.
        on_duplicate: :class:`~hpolab.llm.DuplicateOptions` field.
        temperature: :class:`~hpolab.llm.DecodingOptions` field.
        reask_temperature: :class:`~hpolab.llm.DecodingOptions` field.
        max_tokens: :class:`~hpolab.llm.DecodingOptions` field.
        structured_output: :class:`~hpolab.llm.DecodingOptions` field.
        answer_format: :class:`~hpolab.llm.DecodingOptions` field.
        max_history: :class:`~hpolab.llm.PromptOptions` field.
        history_step: :class:`~hpolab.llm.PromptOptions` field.
        context_tokens: :class:`~hpolab.llm.PromptOptions` field.
        base_url: OpenAI-compatible server URL, used when ``client`` is ``None``.
        model: Model name (with ``base_url``) or a ``.gguf`` path, used when ``client`` is ``None``.
        api_key: Key for ``base_url`` (else ``OPENAI_API_KEY``); never stored.
        direction: ``"minimize"`` or ``"maximize"``.
        seed: Seed of the sampling seeds, fallbacks and perturbations.
    """

    name: ClassVar[str] = "llm"

    def __init__(
        self,
        space: SearchSpace | Mapping[str, Any] | Any,
        client: LLMClient | None = None,
        *,
        prompt: PromptOptions | Mapping[str, Any] | None = None,
        decoding: DecodingOptions | Mapping[str, Any] | None = None,
        duplicates: DuplicateOptions | Mapping[str, Any] | None = None,
        mode: Literal["compressed", "chat"] | None = None,
        chain_of_thought: bool | None = None,
        description: str | None = None,
        n_trials: int | None = None,
        budget: int | None = None,
        system_prompt: str | None = None,
        templates: PromptTemplates | None = None,
        metric: str | None = None,
        on_duplicate: Literal["reask", "perturb", "delegate"] | None = None,
        temperature: float | None = None,
        reask_temperature: float | None = None,
        max_tokens: int | None = None,
        structured_output: bool | None = None,
        answer_format: Literal["json", "compact"] | None = None,
        max_history: int | None = None,
        history_step: int | None = None,
        context_tokens: int | None = None,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
    ) -> None:
        super().__init__(space, direction=direction, seed=seed)
        #: What the prompt says (:class:`~hpolab.llm.PromptOptions`).
        self.prompt = resolve_options(
            prompt,
            PromptOptions,
            mode=mode,
            chain_of_thought=chain_of_thought,
            description=description,
            n_trials=renamed_keyword(type(self).__name__, "budget", "n_trials", budget, n_trials),
            system_prompt=system_prompt,
            templates=templates,
            metric=metric,
            max_history=max_history,
            history_step=history_step,
            context_tokens=context_tokens,
        )
        #: How answers are sampled (:class:`~hpolab.llm.DecodingOptions`).
        self.decoding = resolve_options(
            decoding,
            DecodingOptions,
            temperature=temperature,
            reask_temperature=reask_temperature,
            max_tokens=max_tokens,
            structured_output=structured_output,
            answer_format=answer_format,
        )
        #: What happens to a duplicate (:class:`~hpolab.llm.DuplicateOptions`).
        self.duplicates = resolve_options(duplicates, DuplicateOptions, on_duplicate=on_duplicate)
        if client is not None and not isinstance(client, LLMClient):
            raise TypeError(f"client: {type(client).__name__} has no complete(); give an hpolab.llm client")
        if client is None and base_url is not None and not model:
            raise ValueError("model: give the model name the server at base_url serves (e.g. model='gpt-4o-mini')")
        self._client = client
        self._client_spec = {"base_url": base_url, "model": model}
        self._api_key = api_key
        # The resolved values the optimizer reads, as plain attributes.
        p, d = self.prompt, self.decoding
        self.mode = p.mode
        self.chain_of_thought = bool(p.chain_of_thought)
        self.description = p.description
        self.n_trials = None if p.n_trials is None else int(p.n_trials)
        base_templates = p.templates or DEFAULT_TEMPLATES
        if p.system_prompt is not None:
            base_templates = dataclasses.replace(base_templates, system=p.system_prompt)
        self.templates = base_templates
        self.metric = p.metric
        self.on_duplicate = self.duplicates.on_duplicate
        self.temperature = float(d.temperature)
        self.reask_temperature = float(d.reask_temperature)
        self.max_tokens = int(d.max_tokens) if d.max_tokens is not None else (512 if self.chain_of_thought else 256)
        self.structured_output = bool(d.structured_output)
        self.answer_format = d.answer_format
        self.max_history = None if p.max_history is None else int(p.max_history)
        self.history_step = int(p.history_step)
        self.context_tokens = None if p.context_tokens is None else int(p.context_tokens)
        # Per-proposal generators derive from this, so a resumed optimizer asks like an uninterrupted one.
        self._base_seed = int(self._rng.integers(2**31 - 1)) if seed is None else int(seed)
        self._dialogue: list[dict[str, Any]] = []
        self._stats: dict[str, Any] = {}
        # a model that never answered: consecutive suggestions whose every call failed (see MAX_UNREACHED)
        self._answered = False
        self._unreached = 0
        self._classic: ClassicState | None = None
        self._delegate: Callable[[str], Mapping[str, Any]] | None = None
        # cost recorded with trials of other clients (earlier processes, other workers), by client session
        self._prior_costs: dict[str, float] = {}

    # ------------------------------------------------------------------ client
    @property
    def client(self) -> LLMClient:
        """The model (built at first use when none was given)."""
        if self._client is None:
            base_url, model = self._client_spec["base_url"], self._client_spec["model"]
            key = {} if self._api_key is None else {"api_key": self._api_key}
            if base_url is not None:
                self._client = make_client(base_url, model=str(model), **key)
            else:
                self._client = make_client(model, **key)
            self._check_client(self._client)
        return self._client

    def _check_client(self, client: LLMClient) -> None:
        """Hook for subclasses that need more of the client (images)."""

    def _record_prior(self, metadata: Any) -> None:
        """Remember what a stored trial's LLM calls cost, for ``max_cost`` of this process's client."""
        if not isinstance(metadata, Mapping):
            return
        usage = LLMUsage.from_metadata(metadata)
        if usage is None or not usage.cost:
            return
        meta = metadata.get("llm")
        session = str((meta or {}).get("session", "")) if isinstance(meta, Mapping) else ""
        self._prior_costs[session] = self._prior_costs.get(session, 0.0) + float(usage.cost)

    def _push_prior(self, client: LLMClient) -> None:
        """Tell a client with a cost limit what the study spent through other clients."""
        token = client_session(client)
        prior = sum(cost for session, cost in self._prior_costs.items() if session != token)
        layer: Any = client
        for _ in range(8):
            if layer is None:
                break
            if hasattr(layer, "prior_cost"):
                layer.prior_cost = float(prior)
                break
            layer = getattr(layer, "client", None)

    def _meta_params(self) -> dict[str, Any]:
        client = self._client
        return {
            "mode": self.mode,
            "chain_of_thought": self.chain_of_thought,
            "n_trials": self.n_trials,
            "on_duplicate": self.on_duplicate,
            "temperature": self.temperature,
            "reask_temperature": self.reask_temperature,
            "max_tokens": self.max_tokens,
            "structured_output": self.structured_output,
            "answer_format": self.answer_format,
            "max_history": self.max_history,
            "history_step": self.history_step,
            "context_tokens": self.context_tokens,
            "client": getattr(client, "name", None)
            if client is not None
            else (self._client_spec["model"] or "default"),
            "system_prompt": self.templates.system,
        }

    # ------------------------------------------------------------------ stats
    @property
    def stats(self) -> dict[str, Any]:
        """Counts over all proposals.

        Keys: ``proposals``, outcomes (``valid``, ``repaired``, ``reasked``, ``fallback``), ``parse_error``, ``client_error``, duplicates (``duplicate``,
        ``duplicate_reasked``, ``perturbed``, ``duplicate_random``, ``duplicate_kept``), ``calls``,
        ``prompt_tokens``, ``completion_tokens`` and ``latency_s`` (seconds in the model).
        """
        return dict(self._stats)

    def _add_stats(self, llm_meta: Mapping[str, Any]) -> None:
        s = self._stats
        s["proposals"] = s.get("proposals", 0) + 1
        for key, value in (llm_meta.get("counters") or {}).items():
            s[key] = s.get(key, 0) + int(value)
        s["calls"] = s.get("calls", 0) + len(llm_meta.get("exchanges") or [])
        s["prompt_tokens"] = s.get("prompt_tokens", 0) + int(llm_meta.get("prompt_tokens", 0))
        s["completion_tokens"] = s.get("completion_tokens", 0) + int(llm_meta.get("completion_tokens", 0))
        s["latency_s"] = float(s.get("latency_s", 0.0)) + float(llm_meta.get("latency_s", 0.0))

    # ------------------------------------------------------------------ prompts
    def _budget(self) -> int | None:
        if self.n_trials is not None:
            return self.n_trials
        n = self.context.get("n_trials")
        return int(n) if n is not None else None

    def _fidelity_name(self) -> str:
        fidelity = self.context.get("fidelity")
        if fidelity is None:
            return "budget"
        if isinstance(fidelity, Mapping):
            return str(fidelity.get("name", "budget"))
        return str(getattr(fidelity, "name", "budget"))

    def _metric(self) -> str:
        if self.metric:
            return self.metric
        return "score" if self.direction is Direction.MAXIMIZE else "loss"

    def set_classic(
        self, state: ClassicState | None, delegate: Callable[[str], Mapping[str, Any]] | None = None
    ) -> None:
        """Show the classic optimizer's state in the next prompts, and who answers when the model cannot.

        Args:
            state: The classic state (``None`` removes the section); with ``state.allow_keep`` the
                model may answer ``{"keep": true}`` to keep ``state.proposal``.
            delegate: ``delegate(reason) -> config`` for a duplicate the re-ask did not fix or an
                unusable answer (``None``: perturbation / random fallbacks).
        """
        self._classic = state
        self._delegate = delegate

    def _prompt_history(self) -> list[HistoryEntry]:
        entries: list[HistoryEntry] = []
        items = list(self._dialogue)
        shown = {self.space.key(item["config"]) for item in items}
        for trial in self.running_elsewhere:
            if self.space.key(trial.config) not in shown:
                items.append({"config": dict(trial.config), "answer": None, "budget": trial.budget, "result": None})
        for item in items:
            result: TrialResult | None = item.get("result")
            loss: float | None = None
            failed = False
            error = None
            if result is not None:
                if result.state is TrialState.COMPLETE and result.value is not None and math.isfinite(result.value):
                    loss = float(result.value)
                else:
                    failed = True
                    error = str(result.info.get("error", result.state.value)) if result.info else result.state.value
            entries.append(HistoryEntry(item["config"], loss, failed, error, item.get("budget"), item.get("answer")))
        if self.max_history is not None and len(entries) > self.max_history:
            step = self.history_step  # the window's start moves in steps, so the prompt's start holds between them
            start = -(-(len(entries) - self.max_history) // step) * step
            entries = entries[start:]
        return entries

    def intro(self) -> str:
        """The first part of every prompt: description, search space, budget sentence and goal."""
        return initial_message(
            description=self.description or self.context.get("description"),
            search_space=self.space.describe(),
            names=self.space.names,
            n_trials=self._budget(),
            maximize=self.direction is Direction.MAXIMIZE,
            metric=self._metric(),
            templates=self.templates,
        )

    def build_messages(
        self, history: Sequence[HistoryEntry] | None = None, *, last: bool | None = None
    ) -> list[dict[str, Any]]:
        """The prompt the next ask sends (for inspection).

        Args:
            history: The entries to show, all of them; ``None`` takes the current history, fitted
                to the model's context as an ask fits it (this builds the client if needed).
            last: Whether it is the budget's last try; ``None`` works it out.
        """
        if last is None:
            budget = self._budget()
            last = budget is not None and len(self._dialogue) >= budget - 1
        if history is None:
            messages, _, _ = self._fit(self.client, self._prompt_history(), last)
            return messages
        return self._messages(list(history), last, "")

    #: The best history entries left out of a prompt only after every other one.
    KEEP_BEST: ClassVar[int] = 5
    #: Tokens kept free for a re-ask's instruction, beside the answer quoted back and the new answer.
    REASK_TOKENS: ClassVar[int] = 384

    def _prompt_limit(self, client: LLMClient) -> int:
        """Tokens the prompt may take: the context less the answer, the answer quoted in a re-ask and its instruction."""
        window = context_tokens(client, self.context_tokens)
        return max(window - 2 * self.max_tokens - self.REASK_TOKENS, window // 4)

    def _fit(
        self, client: LLMClient, history: list[HistoryEntry], last: bool
    ) -> tuple[list[dict[str, Any]], list[HistoryEntry], dict[str, Any]]:
        """The prompt that fits the context, the entries it shows, and what was left out (for the transcript)."""
        messages = self._messages(history, last, "")
        limit = self._prompt_limit(client)
        tokens, how = count_prompt_tokens(client, messages)
        info: dict[str, Any] = {"shown": len(history), "omitted": 0, "tokens": tokens, "limit": limit}
        info["counted_by"] = how
        if tokens <= limit or not history:
            return messages, history, info
        order = self._drop_order(history)
        found: tuple[int, list[dict[str, Any]], list[HistoryEntry], int, str] | None = None
        lo, hi = 1, len(order)
        while lo <= hi:  # the fewest entries left out for the prompt to fit
            mid = (lo + hi) // 2
            dropped = set(order[:mid])
            kept = [e for i, e in enumerate(history) if i not in dropped]
            note = self._omitted_note([history[i] for i in sorted(dropped)])
            candidate = self._messages(kept, last, note)
            n, _ = count_prompt_tokens(client, candidate)
            if n <= limit:
                found = (mid, candidate, kept, n, note)
                hi = mid - 1
            else:
                lo = mid + 1
        if found is None:
            note = self._omitted_note(history)
            candidate = self._messages([], last, note)
            n, _ = count_prompt_tokens(client, candidate)
            found = (len(history), candidate, [], n, note)
            _logger.warning(
                "the prompt takes %d tokens without any history, above the %d the context leaves; "
                "shorten the description or give context_tokens=",
                n,
                limit,
            )
        k, messages, kept, n, note = found
        plain = len(order) - len(self._protected(history))
        if self.history_step > 1 and k < plain:  # leave out a whole step: the next asks keep this start
            k = min(-(-k // self.history_step) * self.history_step, plain)
            dropped = set(order[:k])
            kept = [e for i, e in enumerate(history) if i not in dropped]
            note = self._omitted_note([history[i] for i in sorted(dropped)])
            messages = self._messages(kept, last, note)
            n, _ = count_prompt_tokens(client, messages)
        info.update(shown=len(kept), omitted=k, tokens=n, note=note.strip())
        _logger.info("prompt: %d of %d history entries left out to fit %d tokens", k, len(history), limit)
        return messages, kept, info

    def _protected(self, history: Sequence[HistoryEntry]) -> set[int]:
        """Indices left out only after every other one: the best :attr:`KEEP_BEST` and the newest."""
        sign = -1.0 if self.direction is Direction.MAXIMIZE else 1.0
        done = [i for i, e in enumerate(history) if e.loss is not None]
        best = set(sorted(done, key=lambda i: sign * float(history[i].loss))[: self.KEEP_BEST])  # type: ignore[arg-type]
        best.add(len(history) - 1)
        return best

    def _drop_order(self, history: Sequence[HistoryEntry]) -> list[int]:
        """Indices in the order they are left out: oldest first, the best :attr:`KEEP_BEST` and the newest last."""
        best = self._protected(history)
        return [i for i in range(len(history)) if i not in best] + sorted(best)

    def _omitted_note(self, dropped: Sequence[HistoryEntry]) -> str:
        if not dropped:
            return ""
        values = [float(e.loss) for e in dropped if e.loss is not None]
        summary = ""
        if values:
            sign = -1.0 if self.direction is Direction.MAXIMIZE else 1.0
            lo, hi = min(values, key=lambda v: sign * v), max(values, key=lambda v: sign * v)
            fmt = self.templates.loss_format
            summary = f"; their {self._metric()} ranged from {fmt.format(loss=lo)} to {fmt.format(loss=hi)}"
        failed = sum(1 for e in dropped if e.failed)
        if failed:
            summary += f" ({failed} failed)"
        return self.templates.history_omitted.format(n=len(dropped), summary=summary)

    def _messages(self, history: list[HistoryEntry], last: bool, omitted: str) -> list[dict[str, Any]]:
        classic = ""
        if self._classic is not None:
            classic = classic_state_text(self._classic, metric_short=self._metric(), templates=self.templates)
        common: dict[str, Any] = {
            "classic": classic,
            "intro": self.intro(),
            "names": self.space.names,
            "history": history,
            "last": last,
            "chain_of_thought": self.chain_of_thought,
            "metric_short": self._metric(),
            "fidelity_name": self._fidelity_name(),
            "templates": self.templates
            if self.answer_format == "json"
            else compact_templates(self.templates, self.space.names),
            "omitted": omitted,
        }
        if self.mode == "chat":
            return chat_messages(**common)
        return compressed_messages(**common, **self._compressed_options())

    def _compressed_options(self) -> dict[str, Any]:
        return {}

    def _images(self, history: Sequence[HistoryEntry]) -> list[bytes]:
        """Images sent with the prompt (none here; the multimodal optimizer adds a plot)."""
        return []

    # ------------------------------------------------------------------ ask / tell
    def json_schema(self) -> dict[str, Any]:
        """The schema sent for constrained decoding.

        The space's schema (a list schema, :func:`~hpolab.llm._extract.compact_schema`, for the compact
        answer form), or with chain of thought ``{"analysis": <text>, "config": <the space's>}``
        so the reasoning fits in the JSON.
        """
        schema = self.space.json_schema() if self.answer_format == "json" else compact_schema(self.space)
        if self._classic is not None and self._classic.allow_keep and self._classic.proposal is not None:
            keep = {
                "type": "object",
                "properties": {"keep": {"type": "boolean", "enum": [True]}},
                "required": ["keep"],
                "additionalProperties": False,
            }
            schema = {"anyOf": [schema, keep]}
        if not self.chain_of_thought:
            return schema
        return {
            "type": "object",
            "properties": {"analysis": {"type": "string", "maxLength": 600}, "config": schema},
            "required": ["analysis", "config"],
            "additionalProperties": False,
        }

    def _proposal_rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self._base_seed, index])

    def _seen_keys(self) -> set[Any]:
        keys = {self.space.key(item["config"]) for item in self._dialogue}
        keys.update(self.space.key(r.trial.config) for r in self._history)
        keys.update(self.space.key(t.config) for t in self.running_elsewhere)
        return keys

    def _ask(self, n: int) -> list[Proposal]:
        client = self.client
        if self._prior_costs:
            self._push_prior(client)
        if self.on_duplicate == "delegate" and self._delegate is None:
            raise OptimizerError(
                "on_duplicate: 'delegate' hands a duplicate to llm-hybrid's core, and this LLM optimizer has none "
                "(it runs outside a hybrid); use on_duplicate='reask' or 'perturb'"
            )
        proposals: list[Proposal] = []
        schema = self.json_schema() if self.structured_output else None
        for _ in range(n):
            index = len(self._dialogue)
            budget = self._budget()
            last = budget is not None and index >= budget - 1
            history = self._prompt_history()
            messages, history, shown = self._fit(client, history, last)
            images = self._images(history)
            rng = self._proposal_rng(index)
            classic = self._classic
            keep_config = classic.proposal if classic is not None and classic.allow_keep else None
            result = propose_config(
                client,
                messages,
                self.space,
                rng,
                self._seen_keys(),
                json_schema=schema,
                images=images,
                temperature=self.temperature,
                reask_temperature=self.reask_temperature,
                seed=int(rng.integers(2**31 - 1)),
                max_tokens=self.max_tokens,
                on_duplicate=self.on_duplicate,
                evaluated=[item["config"] for item in self._dialogue],
                delegate=self._delegate,
                keep_config=keep_config,
                duplicate_template=self.templates.forbidden,
                compact=self.answer_format == "compact",
            )
            self._check_reached(result.exchanges)
            answer = result.answer if (result.outcome == "valid" and result.duplicate_handling is None) else None
            if answer is None and self.chain_of_thought and self.mode == "chat":
                answer = "Config: " + format_config(result.config)
            llm_meta: dict[str, Any] = {
                "mode": self.mode,
                "chain_of_thought": self.chain_of_thought,
                "client": getattr(client, "name", type(client).__name__),
                "session": client_session(client),
                "index": index,
                "last_try": last,
                "outcome": result.outcome,
                "duplicate_handling": result.duplicate_handling,
                "delegated": result.delegated,
                "classic_state": classic is not None,
                "counters": dict(result.counters),
                "changes": list(result.changes),
                "errors": list(result.errors),
                "answer": answer,
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
                "latency_s": result.latency_s,
                "prompt": {**prompt_fingerprint(messages), "history": shown},
                "exchanges": result.exchanges,
            }
            item: dict[str, Any] = {"config": dict(result.config), "answer": answer, "budget": None, "result": None}
            self._dialogue.append(item)
            self._add_stats(llm_meta)
            _logger.debug("proposal %d: %s (%s)", index, result.config, result.outcome)
            usage = LLMUsage.from_exchanges(result.exchanges).to_dict()
            proposals.append(
                Proposal(result.config, metadata={"llm": llm_meta, LLMUsage.METADATA_KEY: usage}, handle=item)
            )
        return proposals

    #: Consecutive suggestions in which every model call failed, before any call ever succeeded, after
    #: which :meth:`ask` raises: a model that cannot be reached at all is a set-up error (a wrong URL, a
    #: server not started, a wrong model name), not something to hide behind random fallbacks. Once the
    #: model has answered, later outages fall back (counted as ``client_error``) and the study goes on.
    MAX_UNREACHED: ClassVar[int] = 3

    def _check_reached(self, exchanges: Sequence[Mapping[str, Any]]) -> None:
        """Raise :class:`LLMClientError` when the model has never answered ``MAX_UNREACHED`` suggestions running."""
        if self._answered or not exchanges:
            return
        if any(e.get("answer") is not None for e in exchanges):  # the model answered (usable or not)
            self._answered = True
            return
        self._unreached += 1
        if self._unreached >= self.MAX_UNREACHED:
            last = str(exchanges[-1].get("error"))
            where = getattr(self.client, "name", type(self.client).__name__)
            raise LLMClientError(
                f"the LLM ({where}) answered none of the {self._unreached} suggestions asked so far "
                f"(every request failed; last error: {last}). Check that the server runs and that its URL "
                "(--llm-base-url / base_url) and model name are right; trials already finished are kept "
                "in the study's storage."
            )

    def _tell(self, trial: Trial, result: TrialResult) -> None:
        item = trial.handle
        if isinstance(item, dict):
            item["budget"] = trial.budget
            item["result"] = result

    def _observe(self, trial: Trial, result: TrialResult) -> None:
        item = {"config": dict(trial.config), "answer": None, "budget": trial.budget, "result": result}
        self._dialogue.append(item)
        self._record_prior(trial.metadata)

    def _replay_ask(self, trials: Sequence[Trial]) -> list[Any]:
        """Restore the dialogue from the stored trials' transcripts; the model is not called."""
        handles: list[Any] = []
        for trial in trials:
            meta = trial.metadata.get("llm") if isinstance(trial.metadata, Mapping) else None
            item = {
                "config": dict(trial.config),
                "answer": (meta or {}).get("answer"),
                "budget": trial.budget,
                "result": None,
            }
            self._dialogue.append(item)
            handles.append(item)
            if meta:
                self._add_stats(meta)
            self._record_prior(trial.metadata)
        return handles

    @property
    def transcript(self) -> list[dict[str, Any]]:
        """Every model call so far, in order, from the trials' metadata (asked trials only).

        Each call has its trial, kind, prompt fingerprint, answer, tokens and latency, and for a
        re-ask the messages it added after the prompt.
        """
        calls: list[dict[str, Any]] = []
        trials = [r.trial for r in self._history] + self.pending
        for trial in sorted(trials, key=lambda t: t.id):
            meta = trial.metadata.get("llm") or {}
            for exchange in meta.get("exchanges", []):
                calls.append({"trial": trial.id, **exchange})
        return calls

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(mode={self.mode!r}, chain_of_thought={self.chain_of_thought}, "
            f"seed={self.seed}, told={len(self._history)})"
        )
