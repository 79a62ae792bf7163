"""Versioned schema. Append a migration; never edit one that has shipped.

Encrypted columns (BLOB, named *_enc) hold AES-GCM sealed values; see storage/crypto.py.
Telegram ids are never stored in the clear: `tg_ref` is a keyed hash, `chat_enc` the sealed chat id.
"""

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            tg_ref BLOB NOT NULL UNIQUE,
            chat_enc BLOB NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('onboarding', 'active', 'closed', 'banned')),
            step TEXT,
            policy_version TEXT NOT NULL,
            age_confirmed_at TEXT NOT NULL,
            conversation_id INTEGER,
            created_at TEXT NOT NULL
        );

        CREATE TABLE user_keys (
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            wrapped BLOB NOT NULL
        );

        CREATE TABLE profiles (
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            display_name_enc BLOB,
            gender_enc BLOB,
            country_enc BLOB
        );

        CREATE TABLE companions (
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            name_enc BLOB NOT NULL,
            gender_enc BLOB NOT NULL,
            tone_enc BLOB NOT NULL
        );

        CREATE TABLE consents (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            purpose TEXT NOT NULL,
            granted INTEGER NOT NULL,
            policy_version TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX consents_user ON consents(user_id, purpose, id);

        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            started_at TEXT NOT NULL
        );
        CREATE INDEX conversations_user ON conversations(user_id, id);

        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            body_enc BLOB NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX messages_conversation ON messages(conversation_id, id);
        CREATE INDEX messages_user ON messages(user_id, id);

        CREATE TABLE minor_markers (
            tg_ref BLOB PRIMARY KEY,
            created_at TEXT NOT NULL
        );

        CREATE TABLE group_notices (
            chat_ref BLOB PRIMARY KEY,
            created_at TEXT NOT NULL
        );
        """,
    ),
]
