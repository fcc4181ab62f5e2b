#!/usr/bin/env python3
"""A recorded stand-in for an OpenAI-compatible chat-completions endpoint.

No language model runs here: none of the package registries this machine
reaches ships a model together with a runtime that serves the
chat-completions API. This server speaks the protocol as llama.cpp's
server, Ollama and vLLM do (`POST /v1/chat/completions`, the answer in
`choices[0].message.content`, token counts in `usage`) and answers from
recordings.

    llm_recorded_server.py RECORDINGS.json [--key KEY]

RECORDINGS.json is a list of `{"when": TEXT, "answer": TEXT,
"finish_reason": "stop"}`: a request gets the answer of the first recording
whose `when` occurs in one of its messages (`""` matches every request).
With `--key`, a request without `Authorization: Bearer KEY` gets 401.

It prints `listening on URL`, then one JSON line per request it answered:
the model, max_tokens, temperature, whether the key was right, the index of
the recording used and the messages, so a test can check what QLP sent.
Usage counts are four bytes a token, as an estimate.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

recordings = []
key = None
served = 0


def tokens(text):
    return max(1, (len(text.encode()) + 3) // 4)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        global served
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self.reply(404, {"error": {"message": f"no route {self.path}"}})
        authorized = key is None or self.headers.get("Authorization") == f"Bearer {key}"
        try:
            request = json.loads(raw)
            messages = request["messages"]
            model = request["model"]
        except (ValueError, KeyError, TypeError) as e:
            return self.reply(400, {"error": {"message": f"bad request: {e}"}})
        record = {
            "model": model,
            "max_tokens": request.get("max_tokens"),
            "temperature": request.get("temperature"),
            "authorized": authorized,
            "messages": messages,
        }
        if not authorized:
            record["matched"] = None
            print(json.dumps(record), flush=True)
            return self.reply(401, {"error": {"message": "invalid API key"}})
        text = "\n".join(str(m.get("content", "")) for m in messages)
        for i, r in enumerate(recordings):
            if r["when"] in text:
                break
        else:
            record["matched"] = None
            print(json.dumps(record), flush=True)
            return self.reply(500, {"error": {"message": "no recording matches"}})
        record["matched"] = i
        print(json.dumps(record), flush=True)
        served += 1
        answer = r["answer"]
        prompt = tokens(text)
        completion = tokens(answer)
        self.reply(
            200,
            {
                "id": f"chatcmpl-recorded-{served}",
                "object": "chat.completion",
                "created": 1_700_000_000 + served,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer},
                        "finish_reason": r.get("finish_reason", "stop"),
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            },
        )


def main():
    global recordings, key
    args = sys.argv[1:]
    if "--key" in args:
        i = args.index("--key")
        key = args[i + 1]
        del args[i : i + 2]
    with open(args[0]) as f:
        recordings = json.load(f)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
