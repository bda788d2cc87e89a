"""llmtwin: a local fake OpenAI API for copbot's tests, sandbox and benchmarks.

``LLMTwin`` serves ``/v1/embeddings``, ``/v1/chat/completions`` and ``/v1/models`` on
loopback with OpenAI's shapes and errors, deterministic answers, and planned failures
(status errors, 429 with Retry-After, slow answers).

    with LLMTwin(api_key="sk-test") as llm:
        client = openai.OpenAI(base_url=llm.base_url, api_key="sk-test")
"""

from llmtwin.fakes import embed, schema_answer
from llmtwin.state import RecordedRequest
from llmtwin.twin import LLMTwin

__all__ = ["LLMTwin", "RecordedRequest", "embed", "schema_answer"]
