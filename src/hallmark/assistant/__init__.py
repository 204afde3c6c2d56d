"""The conversational assistant: conversations, usage limits and the tools it can call."""
