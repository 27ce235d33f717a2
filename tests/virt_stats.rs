//! The bulk stats call on the test driver, without GLib: only active domains come
//! back, every tick, and the records are released (run this binary under
//! `valgrind --leak-check=full` to see no stats record or domain lost).

use std::sync::Arc;
use std::time::Instant;

use vireo::virt::connection::Session;
use vireo::virt::events::EventSink;
use vireo::virt::stats::{poll, StatsFields, StatsTracker};
use vireo::virt::test_node::{domain_uuid, write_node, NodeSpec};

fn main() {
    vireo::virt::init();
    let dir = std::env::temp_dir().join(format!("vireo-stats-{}", std::process::id()));
    let uri = write_node(
        &dir,
        "node.xml",
        &NodeSpec {
            domains: 200,
            running_every: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let sink: EventSink = Arc::new(|_| {});
    let no_auth = |_: Vec<vireo::virt::auth::AuthPrompt>| None;
    let session = Session::open(&uri, &no_auth, sink).expect("open");
    let mut tracker = StatsTracker::default();
    let ticks: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let t = Instant::now();
    for i in 0..ticks {
        let r = poll(&session, StatsFields::default(), &mut tracker, None).expect("stats");
        assert_eq!(r.domains.len(), 100, "only the running half");
        assert!(r.domains.iter().all(|d| {
            let n: usize = usize::from_str_radix(&d.uuid[24..], 16).unwrap() - 0x100_0000;
            n % 2 == 0
        }));
        if i == 0 {
            let mut got: Vec<String> = r.domains.iter().map(|d| d.uuid.clone()).collect();
            got.sort();
            let want: Vec<String> = (0..200).step_by(2).map(domain_uuid).collect();
            assert_eq!(got, want);
        }
    }
    println!(
        "{ticks} ticks over 100 running domains in {:.3} s: ok",
        t.elapsed().as_secs_f64()
    );
    // A restricted tick: only the domains asked for (say the rows on screen).
    let only: Vec<String> = [0, 4, 8].into_iter().map(domain_uuid).collect();
    for _ in 0..ticks {
        let r = poll(&session, StatsFields::default(), &mut tracker, Some(&only)).expect("stats");
        let mut got: Vec<String> = r.domains.iter().map(|d| d.uuid.clone()).collect();
        got.sort();
        assert_eq!(got, only);
    }
    let r = poll(&session, StatsFields::default(), &mut tracker, Some(&[])).unwrap();
    assert!(r.domains.is_empty());
    println!("{ticks} restricted ticks over 3 domains: ok");
    session.close();
    let _ = std::fs::remove_dir_all(&dir);
}
