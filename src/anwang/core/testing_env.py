"""Pytest plugin loaded with ``-p`` before Django settings are read: tests get their own data
folder and fixed keys, so they never touch a developer's demo data."""

from __future__ import annotations

import os
import tempfile

os.environ["ANWANG_HOME"] = tempfile.mkdtemp(prefix="anwang-test-")
os.environ["ANWANG_SECRET_KEY"] = "test-secret-key-not-for-production-" + "x" * 20
# A fixed, valid Fernet key: ciphertexts in tests are reproducible across processes.
os.environ["ANWANG_ENCRYPTION_KEYS"] = "u8zO0pQKcKfQw1yWq9mF3lYt2kVf6N1bJm4h7R2sT5E="
os.environ["ANWANG_INDEX_KEY"] = "test-index-key-not-for-production"
os.environ.setdefault("ANWANG_LANGUAGE", "zh-hans")
