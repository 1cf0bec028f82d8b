//! Medusa's `checkpoint.sh` and `restore.sh` against the local PostgreSQL
//! (`STOREPLANE_TEST_DATABASE_URL`, by default `postgres://postgres@127.0.0.1:5432/test`, a
//! role that may create roles and databases): a checkpoint brings back rows destroyed after
//! it and drops what a newer release added, a dump killed midway leaves no checkpoint, a
//! missing or damaged checkpoint is refused with the database untouched, a checkpoint taken
//! is never replaced, a restore done is never redone, and a restore that fails midway
//! leaves the database as it was.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use storeplane_blueprint::{
    Blueprint, Checkpoint, Engine, Plan, PlatformSettings, Step, StepResources, StoreSpec,
};

use crate::job::{self, run, run_failing, stand_in};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The Medusa store's step `step`, as the worker would apply it.
fn step(step: Step<'_>) -> StepResources {
    let spec = StoreSpec::new("demo".parse().unwrap(), Engine::Medusa, Plan::Small);
    Blueprint::new(PlatformSettings::default())
        .unwrap()
        .step(job::STORE_ID.parse().unwrap(), &spec, step)
        .unwrap()
}

/// The server the tests run on and the administrative login there.
struct Server {
    host: String,
    port: String,
    user: String,
    password: Option<String>,
    database: String,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let url = std::env::var("STOREPLANE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| DEFAULT_URL.to_owned());
        parse_url(&url).expect(
            "STOREPLANE_TEST_DATABASE_URL is a postgres://user[:password]@host[:port]/database URL",
        )
    })
}

/// `postgres://user[:password]@host[:port]/database`, the parts libpq's environment takes
/// (so no password ends up on a command line).
fn parse_url(url: &str) -> Option<Server> {
    let url = url::Url::parse(url).ok()?;
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .map(|decoded| decoded.into_owned())
            .ok()
    };
    let or = |value: String, default: &str| {
        if value.is_empty() {
            default.to_owned()
        } else {
            value
        }
    };
    Some(Server {
        host: or(url.host_str().unwrap_or_default().to_owned(), "127.0.0.1"),
        port: url.port().unwrap_or(5432).to_string(),
        user: or(decode(url.username())?, "postgres"),
        password: match url.password() {
            Some(password) => Some(decode(password)?),
            None => None,
        },
        database: or(decode(url.path().trim_start_matches('/'))?, "postgres"),
    })
}

/// Who runs SQL where: the administrator, or a shop's own role on its database.
struct Login<'a> {
    user: &'a str,
    password: Option<&'a str>,
    database: &'a str,
}

fn admin(database: Option<&str>) -> Login<'_> {
    let server = server();
    Login {
        user: &server.user,
        password: server.password.as_deref(),
        database: database.unwrap_or(&server.database),
    }
}

/// Runs `statements` through psql, given on its input and the password in its
/// environment.
fn psql_output(login: &Login<'_>, statements: &str) -> Output {
    let server = server();
    let mut command = Command::new("psql");
    command
        .args([
            "--no-psqlrc",
            "--quiet",
            "--tuples-only",
            "--no-align",
            "--set=ON_ERROR_STOP=1",
        ])
        .env("PGHOST", &server.host)
        .env("PGPORT", &server.port)
        .env("PGUSER", login.user)
        .env("PGDATABASE", login.database)
        .env("PGCONNECT_TIMEOUT", "10")
        .env_remove("PGPASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(password) = login.password {
        command.env("PGPASSWORD", password);
    }
    let mut child = command
        .spawn()
        .expect("the psql client is installed (it runs the restore script too)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(statements.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs `statements`, failing the test, saying so, when the server is not there or
/// refuses them.
fn psql(login: &Login<'_>, statements: &str) -> String {
    let output = psql_output(login, statements);
    let server = server();
    assert!(
        output.status.success(),
        "PostgreSQL at {}:{} (as {}, database {}) is unreachable or refused `{statements}`: {}",
        server.host,
        server.port,
        login.user,
        login.database,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A throwaway role and the database it owns, shaped like a Medusa shop's (orders, their
/// line items, the display-number sequence), both dropped at the end.
struct Shop {
    name: String,
    password: String,
    dir: tempfile::TempDir,
}

impl Shop {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("storeplane_medusa_{}_{n}", std::process::id());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let password = format!("shop-{n}-{nanos:x}");
        let shop = Self {
            name,
            password,
            dir: tempfile::tempdir().unwrap(),
        };
        let dropped = shop.drop_database();
        assert!(
            dropped.status.success(),
            "dropping a leftover {}: {}",
            shop.name,
            String::from_utf8_lossy(&dropped.stderr)
        );
        psql(
            &admin(None),
            &format!(
                "CREATE ROLE {name} LOGIN PASSWORD '{password}';
                 CREATE DATABASE {name} OWNER {name};",
                name = shop.name,
                password = shop.password
            ),
        );
        shop.sql(
            "CREATE SEQUENCE order_display_id_seq;
             CREATE TABLE \"order\" (
               id text PRIMARY KEY,
               display_id integer NOT NULL DEFAULT nextval('order_display_id_seq'),
               status text NOT NULL,
               email text,
               currency_code text NOT NULL,
               metadata jsonb,
               created_at timestamptz NOT NULL DEFAULT now());
             ALTER SEQUENCE order_display_id_seq OWNED BY \"order\".display_id;
             CREATE TABLE order_line_item (
               id text PRIMARY KEY,
               order_id text NOT NULL REFERENCES \"order\" (id) ON DELETE CASCADE,
               title text NOT NULL,
               quantity integer NOT NULL,
               unit_price numeric(20, 2) NOT NULL);
             CREATE INDEX order_line_item_order_id ON order_line_item (order_id);
             INSERT INTO \"order\" (id, status, email, currency_code, metadata) VALUES
               ('order_01', 'pending', 'ann@example.com', 'eur', '{\"gift\": true}'),
               ('order_02', 'completed', 'bob@example.com', 'eur', NULL),
               ('order_03', 'pending', 'cy@example.com', 'usd', NULL);
             INSERT INTO order_line_item VALUES
               ('ordli_01', 'order_01', 'Medusa T-Shirt', 1, 19.99),
               ('ordli_02', 'order_02', 'Medusa T-Shirt', 2, 19.99),
               ('ordli_03', 'order_02', 'Medusa Sweatpants', 1, 29.50),
               ('ordli_04', 'order_03', 'Medusa Mug', 3, 5.00);",
        );
        shop
    }

    /// Runs `statements` as the shop's role on its database, as the shop itself does.
    fn sql(&self, statements: &str) -> String {
        psql(
            &Login {
                user: &self.name,
                password: Some(&self.password),
                database: &self.name,
            },
            statements,
        )
    }

    /// Each order with its number, status, customer, currency and its items' count,
    /// quantity and total.
    fn orders(&self) -> String {
        self.sql(
            "SELECT o.id, o.display_id, o.status, o.email, o.currency_code, o.metadata,
                    count(i.id), coalesce(sum(i.quantity), 0),
                    coalesce(sum(i.quantity * i.unit_price), 0)
             FROM \"order\" o LEFT JOIN order_line_item i ON i.order_id = o.id
             GROUP BY o.id ORDER BY o.display_id",
        )
    }

    /// The tables of the public schema, one a line.
    fn tables(&self) -> String {
        self.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    }

    /// The columns of `"order"`, one a line.
    fn order_columns(&self) -> String {
        self.sql(
            "SELECT column_name FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = 'order' ORDER BY ordinal_position",
        )
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Where revision `revision`'s checkpoint is (the Job's `/checkpoints/r<N>.dump`).
    fn checkpoint_file(&self, revision: u32) -> PathBuf {
        self.file(&format!("r{revision}.dump"))
    }

    /// Where the restore of rollback revision `revision` from `from`'s checkpoint is marked
    /// done.
    fn restored_file(&self, revision: u32, from: u32) -> PathBuf {
        self.file(&format!("restored-r{revision}-from-r{from}"))
    }

    /// The checkpoint Job's command for revision `revision`, pointed at this database and
    /// at the temp directory for `/checkpoints`.
    fn checkpoint(&self, revision: u32, path_prefix: Option<&Path>) -> Command {
        let step = step(Step::Checkpoint { revision });
        assert_eq!(
            step.checkpoint.as_ref().map(|c| c.path.as_str()),
            Some(format!("/checkpoints/r{revision}.dump").as_str())
        );
        self.command(
            &step,
            [("CHECKPOINT", self.checkpoint_file(revision))],
            path_prefix,
        )
    }

    /// The restore Job's command of rollback revision `revision`, restoring `from`'s.
    fn restore(&self, revision: u32, from: u32) -> Command {
        let checkpoint = Checkpoint {
            job: format!("checkpoint-r{from}"),
            claim: "checkpoints".to_owned(),
            path: format!("/checkpoints/r{from}.dump"),
        };
        let step = step(Step::Restore {
            revision,
            checkpoint: &checkpoint,
        });
        self.command(
            &step,
            [
                ("CHECKPOINT", self.checkpoint_file(from)),
                ("RESTORED", self.restored_file(revision, from)),
            ],
            None,
        )
    }

    fn command<const N: usize>(
        &self,
        step: &StepResources,
        files: [(&'static str, PathBuf); N],
        path_prefix: Option<&Path>,
    ) -> Command {
        let server = server();
        let container = job::container(step);
        let mut local: BTreeMap<&str, String> = BTreeMap::from([
            ("PGHOST", server.host.clone()),
            ("PGPORT", server.port.clone()),
            ("PGUSER", self.name.clone()),
            ("PGDATABASE", self.name.clone()),
            ("HOME", self.dir.path().display().to_string()),
        ]);
        for (name, file) in files {
            local.insert(name, file.display().to_string());
        }
        let secrets = BTreeMap::from([("PGPASSWORD", self.password.as_str())]);
        job::command(&container, &secrets, &local, path_prefix)
    }

    /// Drops the database (whoever is still connected to it) and the role.
    fn drop_database(&self) -> Output {
        psql_output(
            &admin(None),
            &format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE);
                 DROP ROLE IF EXISTS {name};",
                name = self.name
            ),
        )
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        let _ = self.drop_database();
    }
}

/// Where `program` is found on PATH.
fn on_path(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|file| file.is_file())
        .unwrap_or_else(|| panic!("{program} is installed"))
}

#[test]
fn a_checkpoint_brings_back_the_orders_destroyed_after_it_and_drops_what_a_newer_release_added() {
    let shop = Shop::new();
    let orders = shop.orders();
    assert_eq!(orders.lines().count(), 3, "{orders}");
    let tables = shop.tables();
    let columns = shop.order_columns();

    let log = run(shop.checkpoint(1, None));
    assert!(log.contains("checkpoint taken"), "{log}");
    assert!(shop.checkpoint_file(1).exists());
    assert!(!shop.file("r1.dump.partial").exists());

    // What a newer release's migrations and its first hours of selling would do.
    shop.sql(
        "ALTER TABLE \"order\" ADD COLUMN locale text;
         CREATE TABLE order_change_action (id text PRIMARY KEY, order_id text NOT NULL);
         INSERT INTO \"order\" (id, status, currency_code, locale)
           VALUES ('order_04', 'pending', 'eur', 'de');
         DELETE FROM order_line_item WHERE order_id = 'order_02';
         UPDATE \"order\" SET status = 'canceled', email = NULL;
         DELETE FROM \"order\" WHERE id = 'order_03';",
    );
    assert_ne!(shop.orders(), orders);

    let log = run(shop.restore(2, 1));
    assert!(log.contains("restored"), "{log}");
    assert_eq!(shop.orders(), orders);
    assert_eq!(
        shop.tables(),
        tables,
        "a table created after the checkpoint is gone"
    );
    assert_eq!(
        shop.order_columns(),
        columns,
        "a column added after the checkpoint is gone"
    );
    // The display numbers carry on from the checkpoint's, as the shop's role still may.
    let next = shop.sql(
        "INSERT INTO \"order\" (id, status, currency_code) VALUES ('order_05', 'pending', 'eur')
         RETURNING display_id",
    );
    assert_eq!(next.trim(), "4");
    assert!(shop.restored_file(2, 1).exists());
}

#[test]
fn a_dump_killed_midway_leaves_no_checkpoint_and_a_rerun_takes_it() {
    let shop = Shop::new();
    let orders = shop.orders();
    // The real dump, then half of its file is all there is when it is killed.
    let bin = stand_in(
        shop.dir.path(),
        "pg_dump",
        &format!(
            "for arg in \"$@\"; do case \"$arg\" in --file=*) file=\"${{arg#--file=}}\";; esac; done
             {} \"$@\" || exit
             truncate --size=$(( $(stat --format=%s \"$file\") / 2 )) \"$file\"
             kill -KILL $$",
            on_path("pg_dump").display()
        ),
    );
    run_failing(shop.checkpoint(1, Some(&bin)));
    assert!(
        shop.file("r1.dump.partial").exists(),
        "the dump was killed after it had written part of its file"
    );
    assert!(
        !shop.checkpoint_file(1).exists(),
        "a killed dump left a checkpoint"
    );
    let log = run_failing(shop.restore(2, 1));
    assert!(log.contains("missing"), "{log}");

    let log = run(shop.checkpoint(1, None));
    assert!(log.contains("checkpoint taken"), "{log}");
    assert!(!shop.file("r1.dump.partial").exists());
    shop.sql("DELETE FROM \"order\"");
    run(shop.restore(2, 1));
    assert_eq!(shop.orders(), orders);
}

#[test]
fn a_missing_damaged_or_cut_short_checkpoint_is_refused_and_the_database_is_untouched() {
    let shop = Shop::new();
    run(shop.checkpoint(1, None));
    // Orders taken since the checkpoint, which a refused restore must not lose.
    shop.sql(
        "INSERT INTO \"order\" (id, status, currency_code) VALUES ('order_04', 'pending', 'eur');
         CREATE TABLE order_change_action (id text PRIMARY KEY);",
    );
    let orders = shop.orders();
    let tables = shop.tables();
    let whole = std::fs::read(shop.checkpoint_file(1)).unwrap();

    std::fs::remove_file(shop.checkpoint_file(1)).unwrap();
    let log = run_failing(shop.restore(2, 1));
    assert!(log.contains("missing"), "{log}");

    std::fs::write(shop.checkpoint_file(1), b"not a dump").unwrap();
    let log = run_failing(shop.restore(2, 1));
    assert!(log.contains("damaged"), "{log}");

    // Cut short: the archive's header and table of contents are there, its data is not;
    // refused before anything is dropped.
    std::fs::write(shop.checkpoint_file(1), &whole[..whole.len() / 2]).unwrap();
    let log = run_failing(shop.restore(2, 1));
    assert!(log.contains("damaged"), "{log}");

    assert_eq!(shop.orders(), orders);
    assert_eq!(shop.tables(), tables);
    assert!(
        !shop.restored_file(2, 1).exists(),
        "a refused restore is not marked done"
    );
}

#[test]
fn a_checkpoint_taken_is_kept_rather_than_replaced_by_a_later_dump() {
    let shop = Shop::new();
    let orders = shop.orders();
    run(shop.checkpoint(1, None));
    let first = std::fs::read(shop.checkpoint_file(1)).unwrap();
    shop.sql("DELETE FROM \"order\"");
    let log = run(shop.checkpoint(1, None));
    assert!(log.contains("already taken"), "{log}");
    assert_eq!(std::fs::read(shop.checkpoint_file(1)).unwrap(), first);
    run(shop.restore(2, 1));
    assert_eq!(
        shop.orders(),
        orders,
        "the checkpoint holds the orders of before"
    );
}

#[test]
fn a_restore_that_finished_is_not_redone_over_orders_taken_since() {
    let shop = Shop::new();
    run(shop.checkpoint(1, None));
    run(shop.restore(2, 1));
    shop.sql(
        "INSERT INTO \"order\" (id, status, email, currency_code)
           VALUES ('order_04', 'pending', 'dee@example.com', 'eur');
         INSERT INTO order_line_item VALUES ('ordli_05', 'order_04', 'Medusa Mug', 1, 5.00);",
    );
    let orders = shop.orders();
    let log = run(shop.restore(2, 1));
    assert!(log.contains("already restored"), "{log}");
    assert_eq!(shop.orders(), orders, "the new order stays");
    assert_eq!(shop.orders().lines().count(), 4);
}

#[test]
fn a_restore_that_fails_midway_leaves_the_database_as_it_was_and_can_be_retried() {
    let shop = Shop::new();
    let checkpointed = shop.orders();
    run(shop.checkpoint(1, None));
    shop.sql(
        "CREATE TABLE order_change_action (id text PRIMARY KEY);
         INSERT INTO \"order\" (id, status, currency_code) VALUES ('order_04', 'pending', 'eur');
         DELETE FROM \"order\" WHERE id = 'order_01';",
    );
    let orders = shop.orders();
    let tables = shop.tables();

    // The disk fills up when the indexes are built, after the schema was dropped and made
    // again and the tables loaded.
    psql(
        &admin(Some(&shop.name)),
        "CREATE SCHEMA storeplane_fault;
         CREATE FUNCTION storeplane_fault.disk_full() RETURNS event_trigger LANGUAGE plpgsql
           AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$;
         CREATE EVENT TRIGGER disk_full ON ddl_command_start WHEN TAG IN ('CREATE INDEX')
           EXECUTE FUNCTION storeplane_fault.disk_full();",
    );
    let log = run_failing(shop.restore(2, 1));
    assert!(log.contains("No space left on device"), "{log}");
    assert_eq!(shop.orders(), orders);
    assert_eq!(
        shop.tables(),
        tables,
        "the tables of before the restore are all there"
    );
    assert!(!shop.restored_file(2, 1).exists());

    psql(
        &admin(Some(&shop.name)),
        "DROP EVENT TRIGGER disk_full; DROP SCHEMA storeplane_fault CASCADE;",
    );
    let log = run(shop.restore(2, 1));
    assert!(log.contains("restored"), "{log}");
    assert_eq!(shop.orders(), checkpointed);
}
