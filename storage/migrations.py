"""Versioned schema. Append a migration; never edit one that has shipped.

Statements are split on semicolons after `--` comments are stripped (no `--` inside strings).
Encrypted columns (BLOB, named *_enc) hold AES-GCM sealed values; see storage/crypto.py.
Wrapped data keys live in a separate file attached as `keys` (migration 3), so backups of the main
file never hold them: deleting an account then makes its content unreadable in old backups too (B1).
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
    (
        2,
        """
        ALTER TABLE users ADD COLUMN awaiting TEXT;
        ALTER TABLE users ADD COLUMN autodelete_days INTEGER;
        ALTER TABLE users ADD COLUMN last_export_at TEXT;
        ALTER TABLE users ADD COLUMN closed_at TEXT;

        CREATE TABLE nominees (
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            name_enc BLOB NOT NULL,
            contact_enc BLOB NOT NULL,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE grievances (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            body_enc BLOB NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
            created_at TEXT NOT NULL,
            ack_due TEXT NOT NULL,
            resolve_due TEXT NOT NULL,
            acknowledged_at TEXT,
            resolved_at TEXT
        );
        CREATE INDEX grievances_due ON grievances(status, resolve_due);

        -- Safety and abuse records hold a category and a reference, never a copy of the text.
        CREATE TABLE safety_records (
            id INTEGER PRIMARY KEY,
            user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
            category TEXT NOT NULL,
            severity TEXT NOT NULL,
            message_id INTEGER,
            created_at TEXT NOT NULL
        );

        -- Payment records: provider token and limited metadata only, kept detached after deletion.
        CREATE TABLE payments (
            id INTEGER PRIMARY KEY,
            user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
            provider_charge_id TEXT NOT NULL,
            amount_minor INTEGER NOT NULL,
            currency TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL
        );

        -- Every staff access to a user's data, shown to that user in /mydata and /export (B3).
        CREATE TABLE staff_accesses (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            role TEXT NOT NULL,
            reason_category TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX staff_accesses_user ON staff_accesses(user_id, id);
        CREATE INDEX messages_created ON messages(created_at);
        """,
    ),
    (
        3,
        """
        CREATE TABLE keys.user_keys (user_id INTEGER PRIMARY KEY, wrapped BLOB NOT NULL);
        INSERT INTO keys.user_keys SELECT user_id, wrapped FROM main.user_keys;
        DROP TABLE main.user_keys;
        """,
    ),
    (
        4,
        """
        -- Legal holds: while one stands, nothing of that account is purged by retention.
        CREATE TABLE legal_holds (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            reason TEXT NOT NULL,
            placed_at TEXT NOT NULL,
            released_at TEXT
        );
        CREATE INDEX legal_holds_active ON legal_holds(user_id) WHERE released_at IS NULL;

        -- One row per run of a scheduled job: when, and what it removed per category (JSON counts).
        CREATE TABLE job_runs (
            id INTEGER PRIMARY KEY,
            job TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            dry_run INTEGER NOT NULL DEFAULT 0,
            removed TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX job_runs_job ON job_runs(job, id);

        -- The audit log: append-only, each row chained to the previous one by hash.
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX audit_log_at ON audit_log(at);
        CREATE INDEX users_closed ON users(status, closed_at);
        CREATE INDEX payments_created ON payments(created_at);
        CREATE INDEX safety_created ON safety_records(created_at);
        CREATE INDEX minor_markers_created ON minor_markers(created_at);
        """,
    ),
    (
        5,
        """
        -- Update ids already handled, so a redelivered update is never answered twice.
        CREATE TABLE processed_updates (update_id INTEGER PRIMARY KEY, at TEXT NOT NULL);
        CREATE INDEX processed_updates_at ON processed_updates(at);

        -- Per-user daily allowance and the time the companion last said it is an AI.
        ALTER TABLE users ADD COLUMN day TEXT;
        ALTER TABLE users ADD COLUMN day_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE users ADD COLUMN disclosed_at TEXT;

        -- Foreign keys that point at users, indexed so purging an account never scans a table.
        CREATE INDEX payments_user ON payments(user_id);
        CREATE INDEX safety_records_user ON safety_records(user_id, id);
        CREATE INDEX grievances_user ON grievances(user_id);
        """,
    ),
    (
        6,
        """
        -- A flag stays open until a person has reviewed it.
        ALTER TABLE safety_records ADD COLUMN reviewed_at TEXT;

        -- Operator broadcasts. A delivery row is written before each send, so a restart
        -- mid-way never sends anyone the same message twice.
        CREATE TABLE broadcasts (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('service', 'marketing', 'breach', 'policy')),
            body TEXT NOT NULL,
            created_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE TABLE broadcast_deliveries (
            broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (broadcast_id, user_id)
        );

        -- Policy versions published by the operator, the newest one current.
        CREATE TABLE policy_versions (
            version TEXT PRIMARY KEY,
            date TEXT NOT NULL,
            material INTEGER NOT NULL,
            summary TEXT NOT NULL,
            published_at TEXT NOT NULL
        );
        """,
    ),
    (
        7,
        """
        -- A breach notice may name the affected accounts; with no targets it goes to everyone.
        CREATE TABLE broadcast_targets (
            broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL,
            PRIMARY KEY (broadcast_id, user_id)
        );
        """,
    ),
    (
        8,
        """
        -- Ids are never reused. SQLite would hand a purged account's id to the next sign-up, and
        -- holds, audit entries and reviews naming it would then point at someone else; after a
        -- restore, the key file (never rolled back) would already hold a key under that id.
        CREATE TABLE id_high_water (name TEXT PRIMARY KEY, last INTEGER NOT NULL);
        INSERT INTO id_high_water VALUES ('users', max(
            (SELECT coalesce(max(id), 0) FROM users),
            (SELECT coalesce(max(user_id), 0) FROM keys.user_keys),
            (SELECT coalesce(max(user_id), 0) FROM legal_holds)
        ));
        INSERT INTO id_high_water VALUES ('conversations',
            (SELECT coalesce(max(id), 0) FROM conversations));
        """,
    ),
    (
        9,
        """
        -- A companion chat message is 'accepted' until its reply is stored and sent, then
        -- 'answered' (NULL: a reply, or a message stored before this migration). The claim is
        -- a lease: whoever answers holds it until claimed_until, so a crashed process's
        -- messages are found and answered at the next start (handlers/recovery.py).
        ALTER TABLE messages ADD COLUMN status TEXT CHECK (status IN ('accepted', 'answered'));
        ALTER TABLE messages ADD COLUMN claimed_until TEXT;
        ALTER TABLE messages ADD COLUMN reply_to INTEGER REFERENCES messages(id) ON DELETE SET NULL;
        CREATE UNIQUE INDEX messages_reply_to ON messages(reply_to) WHERE reply_to IS NOT NULL;
        CREATE INDEX messages_accepted ON messages(id) WHERE status = 'accepted';
        -- The window's order: each reply right after the message it answers.
        CREATE INDEX messages_thread ON messages(conversation_id, coalesce(reply_to, id), id);
        """,
    ),
    (
        10,
        """
        -- Withdrawing the Terms stops processing at once, and the account is erased once the
        -- closed-account grace has passed since this moment, unless the Terms are accepted
        -- again before (which clears it). Accounts that withdrew before this version get the
        -- full grace from now, as they were told their data stays until they delete it.
        ALTER TABLE users ADD COLUMN terms_withdrawn_at TEXT;
        UPDATE users SET terms_withdrawn_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')
            WHERE policy_version = '' AND status != 'closed';
        CREATE INDEX users_terms_withdrawn ON users(terms_withdrawn_at)
            WHERE terms_withdrawn_at IS NOT NULL;

        -- Proof of consent kept after an account is erased (DPDP): the keyed hash of the
        -- Telegram id (never the id), each consent-ledger row's purpose, choice, policy version
        -- and time, and when the account was erased. No content, no names. Purged by retention.
        CREATE TABLE consent_proofs (
            id INTEGER PRIMARY KEY,
            tg_ref BLOB NOT NULL,
            account_id INTEGER NOT NULL,
            purpose TEXT NOT NULL,
            granted INTEGER NOT NULL,
            policy_version TEXT NOT NULL,
            at TEXT NOT NULL,
            erased_at TEXT NOT NULL
        );
        CREATE INDEX consent_proofs_ref ON consent_proofs(tg_ref);
        CREATE INDEX consent_proofs_erased ON consent_proofs(erased_at);

        -- The processing log of security-relevant events (DPDP Rules 2025, rule 6): an event
        -- name, the internal account id where there is one, and counts (JSON). Never any text.
        CREATE TABLE processing_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            event TEXT NOT NULL,
            account_id INTEGER,
            counts TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX processing_log_at ON processing_log(at);
        """,
    ),
    (
        11,
        """
        -- A personal data breach (DPDP Rules 2025, rule 7): the notice people are sent (JSON of
        -- its fields, the operator's words) and the record of the intimation to the Data
        -- Protection Board. Never purged by retention.
        CREATE TABLE breaches (
            id INTEGER PRIMARY KEY,
            discovered_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            notice TEXT NOT NULL,
            intimated_at TEXT,
            report TEXT,
            report_recorded_at TEXT,
            report_filed_at TEXT
        );
        CREATE INDEX breaches_unfiled ON breaches(id) WHERE report_filed_at IS NULL;
        -- Each sending of a breach's notice: the broadcast that carried it, whose targets and
        -- deliveries are the list of who was notified (kept as long as the audit log).
        CREATE TABLE breach_notices (
            broadcast_id INTEGER PRIMARY KEY,
            breach_id INTEGER NOT NULL REFERENCES breaches(id)
        );
        CREATE INDEX breach_notices_breach ON breach_notices(breach_id);
        -- Each reminder to the owners before the detailed report's deadline, claimed once.
        CREATE TABLE breach_reminders (
            breach_id INTEGER NOT NULL REFERENCES breaches(id),
            mark TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (breach_id, mark)
        );
        """,
    ),
    (
        12,
        """
        -- What the companion remembers (handlers/memory.py), sealed like messages. A memory names
        -- the conversation it was learnt from and goes with it (NULL: the person added it with
        -- /memory add). AUTOINCREMENT: an id is never reused, so a stale /memory button can
        -- never forget a newer memory that inherited its number.
        CREATE TABLE memories (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
            manual INTEGER NOT NULL DEFAULT 0 CHECK (manual IN (0, 1)),
            body_enc BLOB NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            last_used_at TEXT,
            uses INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX memories_user ON memories(user_id, id);
        -- The newest change to a person's memories, read before every reply (memory_version).
        CREATE INDEX memories_user_updated ON memories(user_id, updated_at);
        CREATE INDEX memories_conversation ON memories(conversation_id)
            WHERE conversation_id IS NOT NULL;
        -- One short summary per finished conversation, deleted with it.
        CREATE TABLE summaries (
            conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            body_enc BLOB NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX summaries_user ON summaries(user_id, conversation_id);
        -- Memory on or off (/memory off), and the newest message id extraction has read.
        ALTER TABLE users ADD COLUMN memory_off INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE users ADD COLUMN memory_cursor INTEGER NOT NULL DEFAULT 0;
        -- The person's time zone (an IANA name), a personal field sealed like the country.
        ALTER TABLE profiles ADD COLUMN time_zone_enc BLOB;
        """,
    ),
    (
        13,
        """
        -- From here on every migration is portable DDL (SQLite and PostgreSQL run the same text,
        -- storage/pg_migrations.py translates only the column types): no table rebuilds.
        -- Leases shared by every worker: 'reply:<user id>' (who answers a person's messages now)
        -- and 'job:<name>' (a scheduled job runs once across workers). `until` is ISO-8601 UTC.
        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            until TEXT NOT NULL
        );
        """,
    ),
    (
        14,
        """
        -- The per-person rate limit shared by every worker (handlers/limits.py): one token bucket
        -- per keyed pseudonym of a Telegram id (never the id). Times are REAL epoch seconds so the
        -- refill is plain arithmetic on both backends. `flagged_at`: the refusal count at which the
        -- flood was flagged, 0 when not. `burst` and `per_second` are the limits of the last take.
        -- Nobody's content; an idle bucket is full again and is purged (purge_idle_limits).
        CREATE TABLE limit_buckets (
            key BLOB PRIMARY KEY,
            tokens REAL NOT NULL,
            at REAL NOT NULL,
            refused INTEGER NOT NULL DEFAULT 0,
            flagged_at INTEGER NOT NULL DEFAULT 0,
            burst INTEGER NOT NULL,
            per_second REAL NOT NULL
        );
        CREATE INDEX limit_buckets_at ON limit_buckets(at);
        -- The repeat counter: a keyed digest of the person's last text (never the text) and how
        -- many times in a row it came. Goes with the account.
        CREATE TABLE limit_repeats (
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            digest BLOB NOT NULL,
            repeats INTEGER NOT NULL
        );
        """,
    ),
    (
        15,
        """
        -- The Telegram update a chat message came in (NULL from the console). Unique, so an
        -- update delivered again after a worker died half-way through it is never accepted
        -- twice, even when the first delivery stored the message and died before saying so.
        ALTER TABLE messages ADD COLUMN update_id INTEGER;
        CREATE UNIQUE INDEX messages_update ON messages(update_id);
        """,
    ),
    (
        16,
        """
        -- The newest of the person's messages whose answer was attempted (several workers:
        -- handlers/shared_lane.py). One whose attempt failed stays accepted and is covered by
        -- the next reply, as with one process, instead of being answered on its own.
        ALTER TABLE users ADD COLUMN reply_cursor INTEGER NOT NULL DEFAULT 0;
        """,
    ),
    (
        17,
        """
        -- The language the person reads the bot in ('en', 'hi'): chosen at the age gate or with
        -- /language. Every consent-ledger row records the language of the screen it was given
        -- on (DPDP s. 5(3): the notice in English or a language of the Eighth Schedule), and the
        -- proof kept after erasure keeps it. Rows from before this spoke English.
        ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
        ALTER TABLE consents ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
        ALTER TABLE consent_proofs ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
        """,
    ),
    (
        18,
        """
        -- Amigo Plus, a monthly subscription paid in Telegram Stars (handlers/payments.py). A
        -- payment record holds only the charge ids, amount, currency, status, the period it pays
        -- for and its dates; Plus is whatever paid, unrefunded record covers now. `subscription_id`
        -- is the charge id of the subscription's first payment (what Telegram cancels by).
        ALTER TABLE payments ADD COLUMN telegram_charge_id TEXT;
        ALTER TABLE payments ADD COLUMN subscription_id TEXT;
        ALTER TABLE payments ADD COLUMN period_end TEXT;
        ALTER TABLE payments ADD COLUMN refunded_at TEXT;
        CREATE UNIQUE INDEX payments_charge ON payments(telegram_charge_id);
        CREATE INDEX payments_plus ON payments(user_id, period_end);
        -- The person cancelled their subscription's renewal: Plus stays to the period's end.
        ALTER TABLE users ADD COLUMN plus_canceled INTEGER NOT NULL DEFAULT 0;
        -- A grievance's category: 'general', or 'payment' (/paysupport).
        ALTER TABLE grievances ADD COLUMN category TEXT NOT NULL DEFAULT 'general';
        """,
    ),
]
