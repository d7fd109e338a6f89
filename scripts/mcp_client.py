#!/usr/bin/env python3
"""Drives `aicr mcp` through the official MCP Python SDK (`mcp` on PyPI).

    mcp_client.py CASES.json stdio AICR_BINARY [ARG...]
    mcp_client.py CASES.json http URL

CASES.json is a list of {"label", "tool", "arguments"}. The client
initializes, lists the tools, the resources and the resource templates,
reads one resource and an unknown one, calls every case and an unknown
tool, and prints one JSON document on stdout:

    {"server": {...}, "tools": [...], "resources": {...},
     "calls": {label: {"is_error", "structured", "text"}},
     "errors": {"unknown_tool": {...}, "unknown_resource": {...}}}

Protocol errors are recorded as {"code", "message"}; the caller (the Rust
test crates/aicr-cli/tests/it/mcp.rs) checks the results.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client


def dump(model):
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def protocol_error(exc):
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    if code is None:
        code = getattr(exc, "code", None)
    return {"code": code, "message": str(exc)}


async def exercise(read, write, cases):
    async with ClientSession(read, write) as session:
        init = await session.initialize()
        out = {"server": dump(init.server_info), "calls": {}, "errors": {}}
        out["tools"] = [dump(t) for t in (await session.list_tools()).tools]
        resources = (await session.list_resources()).resources
        uris = [str(r.uri) for r in resources]
        read_back = await session.read_resource("aicr://catalog/registry.yaml")
        templates = (await session.list_resource_templates()).resource_templates
        out["resources"] = {
            "templates": [t.uri_template for t in templates],
            "count": len(uris),
            "has_registry": "aicr://catalog/registry.yaml" in uris,
            "registry_text": read_back.contents[0].text,
        }
        for case in cases:
            result = await session.call_tool(case["tool"], case["arguments"])
            text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
            out["calls"][case["label"]] = {
                "is_error": bool(result.is_error),
                "structured": result.structured_content,
                "text": text,
            }
        try:
            await session.call_tool("write_file", {"path": "/tmp/x"})
            out["errors"]["unknown_tool"] = None
        except Exception as exc:  # the SDK raises on a JSON-RPC error
            out["errors"]["unknown_tool"] = protocol_error(exc)
        try:
            await session.read_resource("aicr://catalog/none.yaml")
            out["errors"]["unknown_resource"] = None
        except Exception as exc:
            out["errors"]["unknown_resource"] = protocol_error(exc)
        return out


async def main(argv):
    with open(argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    transport = argv[2]
    if transport == "stdio":
        params = StdioServerParameters(command=argv[3], args=argv[4:])
        async with stdio_client(params) as (read, write):
            out = await exercise(read, write, cases)
    elif transport == "http":
        async with streamable_http_client(argv[3]) as streams:
            out = await exercise(streams[0], streams[1], cases)
    else:
        raise SystemExit(f"unknown transport {transport!r}: stdio or http")
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    asyncio.run(main(sys.argv))
