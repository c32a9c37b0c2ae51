-- a database made by notifbot 8fb52ac: main when issue #11 started (m001 … m007, the second m004 still among them)
-- make_old_databases.py
BEGIN TRANSACTION;
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
INSERT INTO "_sqlite_migrations" VALUES(1,'notifbot','m001_events_and_outbox','2026-11-29 00:00:00.000000+00:00');
INSERT INTO "_sqlite_migrations" VALUES(2,'notifbot','m002_mutes_acks_and_marketo_state','2026-11-29 00:00:00.000000+00:00');
INSERT INTO "_sqlite_migrations" VALUES(3,'notifbot','m003_partial_indexes_for_status','2026-11-29 00:00:00.000000+00:00');
INSERT INTO "_sqlite_migrations" VALUES(4,'notifbot','m004_marketo_trigger_health','2026-11-29 00:00:00.000000+00:00');
INSERT INTO "_sqlite_migrations" VALUES(5,'notifbot','m004_teams_subscriptions_and_inbox','2026-11-29 00:00:00.000000+00:00');
INSERT INTO "_sqlite_migrations" VALUES(6,'notifbot','m005_outbox_unsure_attempts','2026-11-29 00:00:00.000000+00:00');
INSERT INTO "_sqlite_migrations" VALUES(7,'notifbot','m006_trigger_created_at_and_ack_source','2026-11-29 00:00:00.000000+00:00');
INSERT INTO "_sqlite_migrations" VALUES(8,'notifbot','m007_readiness_probe','2026-11-29 00:00:00.000000+00:00');
CREATE TABLE campaign_activity (
            instance TEXT NOT NULL,
            campaign_id INTEGER NOT NULL,
            last_activity_at TEXT NOT NULL,
            PRIMARY KEY (instance, campaign_id)
        );
INSERT INTO "campaign_activity" VALUES('123-ABC-456',1001,'2026-07-01T00:00:00Z');
CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            original_kind TEXT,
            severity TEXT NOT NULL,
            instance TEXT,
            occurred_at TEXT NOT NULL,
            received_at TEXT NOT NULL,
            summary TEXT,
            fields TEXT NOT NULL,
            labels TEXT NOT NULL,
            source TEXT NOT NULL,
            routed_to TEXT NOT NULL
        , muted_by INTEGER REFERENCES mutes (id));
INSERT INTO "events" VALUES(1,'old-1','crm_sync',NULL,'critical',NULL,'2026-11-28T10:00:00+00:00','2026-11-28T10:00:01+00:00',NULL,'{"crm": "salesforce"}','{"team": "emea"}','webhook','["ops"]',NULL);
CREATE TABLE mutes (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            until REAL NOT NULL,
            author TEXT NOT NULL,
            reason TEXT,
            created_at REAL NOT NULL,
            ended_at REAL,
            ended_by TEXT
        );
INSERT INTO "mutes" VALUES(1,'engagement',1764410400.0,'U0ADMIN','noisy',1764324000.0,NULL,NULL);
CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            event_id INTEGER NOT NULL REFERENCES events (id),
            destination TEXT NOT NULL,
            dest_type TEXT NOT NULL,
            target TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error TEXT,
            claimed_by TEXT,
            lease_until REAL,
            provider_message_id TEXT,
            created_at REAL NOT NULL,
            delivered_at REAL, acked_by TEXT, acked_at REAL, unsure_since REAL, claimed_at REAL, acked_via TEXT,
            UNIQUE (event_id, destination)
        );
INSERT INTO "outbox" VALUES(1,1,'ops','slack','C0123ABCD','delivered',1,0.0,NULL,NULL,NULL,'1764324001.000100',1764324001.0,1764324002.0,'U0ADMIN',1764324100.0,NULL,NULL,NULL);
CREATE TABLE poller_state (
            instance TEXT NOT NULL,
            poller TEXT NOT NULL,
            cursor TEXT,
            last_success_at REAL,
            last_error TEXT,
            last_error_at REAL,
            day TEXT,
            calls_today INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (instance, poller)
        );
CREATE TABLE quota_samples (
            id INTEGER PRIMARY KEY,
            instance TEXT NOT NULL,
            sampled_at REAL NOT NULL,
            day TEXT NOT NULL,
            used INTEGER NOT NULL,
            quota INTEGER NOT NULL,
            users TEXT NOT NULL DEFAULT '[]',
            errors TEXT NOT NULL DEFAULT '{}'
        );
CREATE TABLE readiness_probe (id INTEGER PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE teams_inbox (
            id INTEGER PRIMARY KEY,
            resource TEXT NOT NULL UNIQUE,
            subscription_id TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error TEXT,
            reply_id TEXT,
            received_at REAL NOT NULL
        );
CREATE TABLE teams_subscriptions (
            id TEXT PRIMARY KEY,
            resource TEXT NOT NULL UNIQUE,
            client_state TEXT NOT NULL,
            expires_at REAL NOT NULL,
            created_at REAL NOT NULL
        );
INSERT INTO "teams_subscriptions" VALUES('sub-1','teams/T/channels/C/messages','state-secret',1764327600.0,1764324000.0);
CREATE TABLE trigger_campaigns (
            instance TEXT NOT NULL,
            campaign_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            program_name TEXT,
            url TEXT,
            is_active INTEGER NOT NULL,
            last_activity_at TEXT,
            observed_since TEXT NOT NULL,
            updated_at REAL NOT NULL, cleanup_stage TEXT, cleanup_on TEXT, at_risk_notified_at REAL, seen_at REAL, active_since TEXT, created_at TEXT, predates_watch INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (instance, campaign_id)
        );
INSERT INTO "trigger_campaigns" VALUES('123-ABC-456',1001,'Old trigger',NULL,NULL,1,NULL,'2026-06-01T00:00:00Z',0.0,'scheduled',NULL,NULL,1.0,NULL,NULL,0);
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
CREATE INDEX events_kind ON events (kind);
CREATE INDEX outbox_target ON outbox (dest_type, target, status);
CREATE INDEX mutes_active ON mutes (kind, until);
CREATE INDEX outbox_message ON outbox (target, provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX quota_samples_instance ON quota_samples (instance, sampled_at);
CREATE INDEX outbox_open ON outbox (status) WHERE status IN ('pending', 'dead');
CREATE INDEX events_muted ON events (muted_by) WHERE muted_by IS NOT NULL;
CREATE INDEX teams_inbox_due ON teams_inbox (next_attempt_at) WHERE status = 'pending';
COMMIT;
