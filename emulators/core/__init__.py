"""Shared core under every emulator: journal, HTTP transport, admin surface, faults, storage, config."""
