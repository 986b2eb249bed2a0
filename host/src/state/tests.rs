//! The state file: migrations, atomic writes, and each table.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};

use super::*;

fn state() -> (State, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (State::open(&dir.path().join("s.redb")).unwrap(), dir)
}

#[cfg(unix)]
#[test]
fn the_file_is_made_readable_by_its_owner_only_and_its_pseudonyms_survive_a_restart() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let first = State::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "nobody but its owner reads the state");
    let pseudonym = first.pseudonym("ada@example.nl");
    assert_eq!(
        first.kv("ccv@pos").personal_key("ada@example.nl"),
        pseudonym
    );
    drop(first);
    let again = State::open(&path).unwrap();
    assert_eq!(
        again.pseudonym("ada@example.nl"),
        pseudonym,
        "the same customer has the same key after a restart"
    );
}

#[test]
fn a_version_1_file_is_migrated_keeping_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.redb");
    {
        // What version 1 wrote: the kv table and the version.
        let db = redb::Database::create(&path).unwrap();
        let write = db.begin_write().unwrap();
        kv::create(&write).unwrap();
        write
            .open_table(META)
            .unwrap()
            .insert("schema_version", 1)
            .unwrap();
        write.commit().unwrap();
        drop(db);
        let state = State {
            db: std::sync::Arc::new(redb::Database::open(&path).unwrap()),
            pseudonyms: Pseudonyms::ephemeral(),
            key_path: dir.path().join("old.redb.key"),
        };
        state.kv("p").set_many(&[("k".into(), "v".into())]).unwrap();
    }
    let state = State::open(&path).unwrap();
    assert_eq!(state.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(state.kv("p").get("k").unwrap().as_deref(), Some("v"));
    assert!(
        state.read().unwrap().recent_runs(10).unwrap().is_empty(),
        "the new tables exist"
    );
}

#[test]
fn links_are_shared_by_both_directions() {
    let (state, _dir) = state();
    let link = Link {
        ids: BTreeMap::from([("shop".into(), "a".into()), ("pos".into(), "1".into())]),
        variant_ids: BTreeMap::new(),
        fingerprint: Some("f".into()),
        synced_at: Utc::now(),
        flow: "products".into(),
    };
    state
        .write(|w| w.put_link(&link_key("product", "shop", "pos", "TB-MUG-01"), &link))
        .unwrap();
    let read = state.read().unwrap();
    assert_eq!(
        read.link(&link_key("product", "pos", "shop", "TB-MUG-01"))
            .unwrap(),
        Some(link)
    );
    assert_eq!(
        read.link(&link_key("product", "pos", "shop", "TB-MUG-02"))
            .unwrap(),
        None
    );
}

#[test]
fn a_failed_write_changes_nothing() {
    let (state, _dir) = state();
    let result: anyhow::Result<()> = state.write(|w| {
        w.put_cursor("orders", "c1")?;
        anyhow::bail!("the target refused")
    });
    assert!(result.is_err());
    assert_eq!(state.read().unwrap().cursor("orders").unwrap(), None);
}

#[test]
fn intents_pending_runs_and_activity() {
    let (state, _dir) = state();
    let now = Utc::now();
    state
        .write(|w| {
            let id = w.next_run_id()?;
            assert_eq!(id, 1);
            w.put_intent(&Intent {
                flow: "orders".into(),
                key: "10001".into(),
                marker: "10001".into(),
                run: id,
                at: now,
            })?;
            w.put_pending(&Pending {
                flow: "orders".into(),
                key: "10006".into(),
                state: PendingState::Parked,
                reason: "waits".into(),
                missing: vec!["TB-POSTER-01".into()],
                record: serde_json::json!({}),
                since: now,
                attempts: 1,
                not_before: None,
            })?;
            w.put_run(&Run {
                id,
                flow: "orders".into(),
                dry_run: false,
                started_at: now - Duration::days(40),
                finished_at: Some(now - Duration::days(40)),
                status: RunStatus::Finished,
                counts: BTreeMap::new(),
                error: None,
                notes: vec![],
            })?;
            w.put_activity(&Activity {
                run: id,
                seq: 1,
                at: now,
                flow: "orders".into(),
                kind: "order".into(),
                key: "10001".into(),
                source: "shop".into(),
                target: "pos".into(),
                outcome: Outcome::Created,
                message: "booked as order 5001".into(),
                fields: vec![],
                came: None,
                sent: None,
                answer: Some("5001".into()),
            })
        })
        .unwrap();
    let read = state.read().unwrap();
    assert_eq!(read.intents("orders").unwrap().len(), 1);
    assert!(
        read.intents("orders-2").unwrap().is_empty(),
        "flows do not see each other's intents"
    );
    assert_eq!(
        read.pending("orders").unwrap()[0].missing,
        vec!["TB-POSTER-01"]
    );
    assert_eq!(read.search_activity("BOOKED AS", 10).unwrap().len(), 1);
    assert_eq!(read.activity(1).unwrap()[0].answer.as_deref(), Some("5001"));
    drop(read);
    let removed = state.write(|w| w.prune(now, 30)).unwrap();
    assert_eq!(removed, 1, "the 40-day-old run's activity is pruned");
    assert!(state.read().unwrap().run(1).unwrap().is_none());
}

#[test]
fn a_new_file_is_at_the_current_version_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let state = State::open(&path).unwrap();
    assert_eq!(state.schema_version().unwrap(), SCHEMA_VERSION);
    state.kv("a").set_many(&[("k".into(), "v".into())]).unwrap();
    drop(state);
    let state = State::open(&path).unwrap();
    assert_eq!(state.kv("a").get("k").unwrap().as_deref(), Some("v"));
}

#[test]
fn a_file_from_a_newer_tillbridge_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    drop(State::open(&path).unwrap());
    {
        let db = redb::Database::open(&path).unwrap();
        let write = db.begin_write().unwrap();
        write
            .open_table(META)
            .unwrap()
            .insert("schema_version", SCHEMA_VERSION + 1)
            .unwrap();
        write.commit().unwrap();
    }
    let error = format!("{:#}", State::open(&path).err().unwrap());
    assert!(
        error.contains("newer than this tillbridge") && error.contains("state.redb"),
        "{error}"
    );
    let db = redb::Database::open(&path).unwrap();
    let read = db.begin_read().unwrap();
    let version = read
        .open_table(META)
        .unwrap()
        .get("schema_version")
        .unwrap();
    assert_eq!(version.map(|v| v.value()), Some(SCHEMA_VERSION + 1));
}

#[test]
fn a_version_2_file_loses_the_personal_data_it_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.redb");
    let order = serde_json::json!({"id": "a1", "number": "10006",
        "customer": {"email": "sanne.bos@example.nl", "person": {"last_name": "Bos"}}});
    {
        let state = State::open(&path).unwrap();
        state
            .write(|w| {
                let link = Link {
                    ids: BTreeMap::from([("pos".into(), "7".into())]),
                    variant_ids: BTreeMap::new(),
                    fingerprint: None,
                    synced_at: Utc::now(),
                    flow: "orders".into(),
                };
                w.put_link(
                    &link_key("customer", "shop", "pos", "sanne.bos@example.nl"),
                    &link,
                )?;
                w.put_link(&link_key("product", "shop", "pos", "TB-MUG-01"), &link)?;
                w.put_pending(&Pending {
                    flow: "orders".into(),
                    key: "10006".into(),
                    state: PendingState::Parked,
                    reason: "waits".into(),
                    missing: vec![],
                    record: order.clone(),
                    since: Utc::now(),
                    attempts: 1,
                    not_before: None,
                })?;
                w.txn.open_table(META)?.insert("schema_version", 2)?;
                Ok(())
            })
            .unwrap();
    }
    let state = State::open(&path).unwrap();
    assert_eq!(state.schema_version().unwrap(), SCHEMA_VERSION);
    let read = state.read().unwrap();
    assert!(
        read.link(&link_key("customer", "shop", "pos", "sanne.bos@example.nl"))
            .unwrap()
            .is_none(),
        "the customer is found again by e-mail, and linked under its pseudonym"
    );
    assert!(
        read.link(&link_key("product", "shop", "pos", "TB-MUG-01"))
            .unwrap()
            .is_some()
    );
    let pending = read.pending_one("orders", "10006").unwrap().unwrap();
    assert_eq!(
        pending.record,
        serde_json::json!({"number": "10006", "id": "a1"})
    );
}

#[test]
fn a_version_3_file_gains_the_told_table_and_what_is_told_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.redb");
    {
        // What version 3 wrote: the kv table, links and the rest, and the version.
        let db = redb::Database::create(&path).unwrap();
        let write = db.begin_write().unwrap();
        kv::create(&write).unwrap();
        tables::create(&write).unwrap();
        write
            .open_table(META)
            .unwrap()
            .insert("schema_version", 3)
            .unwrap();
        write.commit().unwrap();
    }
    let state = State::open(&path).unwrap();
    assert_eq!(state.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(state.read().unwrap().told().unwrap().is_empty());
    let told = Told {
        flow: "orders".into(),
        subject: Subject::Record {
            kind: "order".into(),
            key: "10006".into(),
        },
        trouble: Trouble::Parked,
        waits: true,
        at: Utc::now(),
    };
    let run = Told {
        subject: Subject::Run,
        trouble: Trouble::RunFailed,
        waits: false,
        ..told.clone()
    };
    state
        .write(|w| {
            w.put_told(&told)?;
            w.put_told(&run)
        })
        .unwrap();
    drop(state);

    let state = State::open(&path).unwrap();
    let mut found = state.read().unwrap().told().unwrap();
    found.sort_by(|a, b| a.subject.cmp(&b.subject));
    assert_eq!(found, vec![run.clone(), told.clone()]);
    state
        .write(|w| w.delete_told("orders", &Subject::Run))
        .unwrap();
    assert_eq!(state.read().unwrap().told().unwrap(), vec![told]);
}
