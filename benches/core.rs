//! Prints performance figures of the libvirt core (it never passes or fails on time):
//! model fill time and main-thread CPU for 1000 and 5000 domains, CPU per stats tick
//! per 100 running domains, and libvirt event -> property change latency.
//!
//! Run: `cargo bench --bench core` (`cargo bench --bench core -- --quick` for fewer
//! rounds). `cargo test --all-targets` only builds it and runs nothing.
// A harness, not the app: it calls libc or libvirt directly to set up and observe.
#![allow(unsafe_code, clippy::undocumented_unsafe_blocks)]

use std::cell::{Cell, RefCell};
use std::ffi::CString;
use std::rc::Rc;
use std::time::{Duration, Instant};

use glib::prelude::*;
use vireo::model::{self, ConnectionObject, ConnectionState, DomainState};
use vireo::virt::stats::{ParamValue, Sample};
use vireo::virt::test_node::{domain_name, write_node, NodeSpec};

/// CPU time of the calling thread and of the whole process.
fn cpu_times() -> (Duration, Duration) {
    let get = |who| {
        // SAFETY: plain out-parameter.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut ru) };
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        tv(ru.ru_utime) + tv(ru.ru_stime)
    };
    (get(libc::RUSAGE_THREAD), get(libc::RUSAGE_SELF))
}

fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let ctx = glib::MainContext::default();
    let end = Instant::now() + timeout;
    while !cond() {
        if Instant::now() > end {
            return false;
        }
        ctx.iteration(true);
    }
    true
}

fn pump(d: Duration) {
    let ctx = glib::MainContext::default();
    let end = Instant::now() + d;
    while Instant::now() < end {
        while ctx.iteration(false) {}
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

struct Fill {
    ready_s: f64,
    main_cpu_s: f64,
    all_cpu_s: f64,
    metadata_s: f64,
}

fn fill_once(uri: &str, n: usize) -> Fill {
    // A heartbeat keeps iteration(true) from sleeping past the moment we look.
    let (main0, all0) = cpu_times();
    let t0 = Instant::now();
    let c = ConnectionObject::new(uri);
    c.set_stats_interval(0);
    c.open();
    assert!(wait_until(Duration::from_secs(120), || c.state()
        == ConnectionState::Connected
        || c.state() == ConnectionState::Failed));
    assert_eq!(c.state(), ConnectionState::Connected, "{:?}", c.error());
    let ready = t0.elapsed();
    let (main1, all1) = cpu_times();
    assert_eq!(c.domains().len(), n);
    let last = c
        .domains()
        .by_uuid(&vireo::virt::test_node::domain_uuid(n - 1))
        .unwrap();
    assert!(wait_until(Duration::from_secs(120), || !last
        .description()
        .is_empty()));
    let metadata = t0.elapsed();
    c.close();
    pump(Duration::from_millis(50));
    Fill {
        ready_s: ready.as_secs_f64(),
        main_cpu_s: (main1 - main0).as_secs_f64(),
        all_cpu_s: (all1 - all0).as_secs_f64(),
        metadata_s: metadata.as_secs_f64(),
    }
}

fn bench_fill(dir: &std::path::Path, rounds: usize) {
    println!("## Fill: open + list + model ready (test driver node file)");
    println!("| domains | ready (s) | main-thread CPU (s) | process CPU (s) | titles+descriptions loaded (s) |");
    println!("|---|---|---|---|---|");
    for n in [1000usize, 5000] {
        let uri = write_node(
            dir,
            &format!("node{n}.xml"),
            &NodeSpec {
                domains: n,
                ..Default::default()
            },
        )
        .expect("node file");
        let runs: Vec<Fill> = (0..rounds).map(|_| fill_once(&uri, n)).collect();
        let m = |f: fn(&Fill) -> f64| median(&mut runs.iter().map(f).collect::<Vec<_>>());
        println!(
            "| {n} | {:.3} | {:.3} | {:.3} | {:.3} |",
            m(|f| f.ready_s),
            m(|f| f.main_cpu_s),
            m(|f| f.all_cpu_s),
            m(|f| f.metadata_s)
        );
    }
    // Where the time goes: libvirt's test driver parses the node file inside
    // virConnectOpen; the list itself is a handful of calls.
    let uri = write_node(
        dir,
        "node5000.xml",
        &NodeSpec {
            domains: 5000,
            ..Default::default()
        },
    )
    .unwrap();
    let w = vireo::virt::worker::Worker::spawn("bench");
    let (open_s, list_s) = w
        .run_blocking(move |st| {
            let t = Instant::now();
            let auth = |_: Vec<vireo::virt::auth::AuthPrompt>| None;
            let sink: vireo::virt::events::EventSink = std::sync::Arc::new(|_| {});
            let mut s = vireo::virt::connection::Session::open(&uri, &auth, sink).unwrap();
            let open = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let recs = vireo::virt::domains::list_all(&mut s).unwrap();
            assert_eq!(recs.len(), 5000);
            let list = t.elapsed().as_secs_f64();
            st.session = Some(s);
            st.close();
            (open, list)
        })
        .unwrap();
    println!(
        "\n5000 domains, worker side: virConnectOpen (test driver parses the file) {open_s:.3} s, list_all {list_s:.3} s"
    );
}

fn bench_stats(dir: &std::path::Path, ticks: usize) {
    println!("\n## Stats tick (one virConnectGetAllDomainStats per tick)");
    let n = 5000;
    let uri = write_node(
        dir,
        "node5000.xml",
        &NodeSpec {
            domains: n,
            ..Default::default()
        },
    )
    .unwrap();
    let c = ConnectionObject::new(&uri);
    c.set_stats_interval(0);
    c.open();
    assert!(wait_until(Duration::from_secs(120), || c.state()
        == ConnectionState::Connected));
    let running = c
        .domains()
        .snapshot()
        .iter()
        .filter(|d| d.state() == DomainState::Running)
        .count();
    let done = Rc::new(Cell::new(0usize));
    let d2 = done.clone();
    c.connect_local("stats-tick", false, move |_| {
        d2.set(d2.get() + 1);
        None
    });
    // Warm up (first tick has no rates), then measure.
    c.stats_tick();
    assert!(wait_until(Duration::from_secs(60), || done.get() == 1));
    let (main0, all0) = cpu_times();
    let t0 = Instant::now();
    for i in 0..ticks {
        c.stats_tick();
        assert!(wait_until(Duration::from_secs(60), || done.get() == i + 2));
    }
    let wall = t0.elapsed().as_secs_f64() / ticks as f64;
    let (main1, all1) = cpu_times();
    let per = |d: Duration| d.as_secs_f64() * 1000.0 / ticks as f64 / (running as f64 / 100.0);
    println!(
        "test driver, {running} running domains: {:.3} ms wall per tick; per 100 running domains: \
         {:.3} ms process CPU, {:.3} ms main-thread CPU",
        wall * 1000.0,
        per(all1 - all0),
        per(main1 - main0)
    );
    // Restricted to 50 rows (what a window shows).
    let rows: Vec<String> = c
        .domains()
        .snapshot()
        .iter()
        .filter(|d| d.state() == DomainState::Running)
        .take(50)
        .map(|d| d.uuid())
        .collect();
    c.set_stats_domains(Some(rows));
    let base = done.get();
    c.stats_tick();
    assert!(wait_until(Duration::from_secs(60), || done.get() == base + 1));
    let (main0, all0) = cpu_times();
    let t0 = Instant::now();
    for i in 0..ticks {
        c.stats_tick();
        assert!(wait_until(Duration::from_secs(60), || done.get() == base + i + 2));
    }
    let (main1, all1) = cpu_times();
    println!(
        "restricted to 50 visible running domains: {:.3} ms wall, {:.3} ms process CPU, {:.3} ms main-thread CPU per tick",
        t0.elapsed().as_secs_f64() * 1000.0 / ticks as f64,
        (all1 - all0).as_secs_f64() * 1000.0 / ticks as f64,
        (main1 - main0).as_secs_f64() * 1000.0 / ticks as f64
    );
    c.close();
    pump(Duration::from_millis(50));

    // The test driver only reports state; QEMU reports ~40 fields per domain. Decode
    // QEMU-shaped typed parameters (as `virsh domstats` shows them for a guest with
    // one disk and one NIC) to measure our decoding.
    let names: Vec<(CString, ParamValue<'static>)> = [
        ("state.state", ParamValue::Int(1)),
        ("state.reason", ParamValue::Int(1)),
        ("cpu.time", ParamValue::ULLong(258_191_000)),
        ("cpu.user", ParamValue::ULLong(65_580_000)),
        ("cpu.system", ParamValue::ULLong(192_611_000)),
        ("balloon.current", ParamValue::ULLong(65536)),
        ("balloon.maximum", ParamValue::ULLong(65536)),
        ("balloon.rss", ParamValue::ULLong(42316)),
        ("balloon.available", ParamValue::ULLong(60000)),
        ("balloon.unused", ParamValue::ULLong(30000)),
        ("net.count", ParamValue::UInt(1)),
        ("net.0.name", ParamValue::Str("vnet0")),
        ("net.0.rx.bytes", ParamValue::ULLong(123_456)),
        ("net.0.rx.pkts", ParamValue::ULLong(100)),
        ("net.0.rx.errs", ParamValue::ULLong(0)),
        ("net.0.rx.drop", ParamValue::ULLong(0)),
        ("net.0.tx.bytes", ParamValue::ULLong(654_321)),
        ("net.0.tx.pkts", ParamValue::ULLong(90)),
        ("net.0.tx.errs", ParamValue::ULLong(0)),
        ("net.0.tx.drop", ParamValue::ULLong(0)),
        ("block.count", ParamValue::UInt(1)),
        ("block.0.name", ParamValue::Str("vda")),
        (
            "block.0.path",
            ParamValue::Str("/var/lib/libvirt/images/x.qcow2"),
        ),
        ("block.0.rd.reqs", ParamValue::ULLong(1)),
        ("block.0.rd.bytes", ParamValue::ULLong(512)),
        ("block.0.rd.times", ParamValue::ULLong(123_053)),
        ("block.0.wr.reqs", ParamValue::ULLong(0)),
        ("block.0.wr.bytes", ParamValue::ULLong(0)),
        ("block.0.wr.times", ParamValue::ULLong(0)),
        ("block.0.fl.reqs", ParamValue::ULLong(0)),
        ("block.0.fl.times", ParamValue::ULLong(0)),
        ("block.0.allocation", ParamValue::ULLong(0)),
        ("block.0.capacity", ParamValue::ULLong(16_777_216)),
        ("block.0.physical", ParamValue::ULLong(4096)),
    ]
    .into_iter()
    .map(|(n, v)| (CString::new(n).unwrap(), v))
    .collect();
    let rounds = 2000;
    let t = Instant::now();
    let mut sink = 0u64;
    for _ in 0..rounds {
        for _ in 0..100 {
            let mut s = Sample::default();
            for (n, v) in &names {
                s.accumulate(n.as_bytes(), *v);
            }
            sink = sink.wrapping_add(s.cpu_time_ns.unwrap_or(0) + s.mem_used_kib().unwrap_or(0));
        }
    }
    std::hint::black_box(sink);
    println!(
        "decoding QEMU-shaped stats ({} fields per domain): {:.3} ms per 100 domains",
        names.len(),
        t.elapsed().as_secs_f64() * 1000.0 / rounds as f64
    );
}

fn bench_latency(dir: &std::path::Path, rounds: usize) {
    println!("\n## Event -> property change latency");
    let uri = write_node(
        dir,
        "node1000.xml",
        &NodeSpec {
            domains: 1000,
            ..Default::default()
        },
    )
    .unwrap();
    let c = ConnectionObject::new(&uri);
    c.set_stats_interval(0);
    c.open();
    assert!(wait_until(Duration::from_secs(120), || c.state()
        == ConnectionState::Connected));
    let cb_to_prop: Rc<RefCell<Vec<f64>>> = Rc::default();
    let call_to_prop: Rc<RefCell<Vec<f64>>> = Rc::default();
    let issued: Rc<Cell<Option<Instant>>> = Rc::default();
    let hits = Rc::new(Cell::new(0usize));
    let mut domains = Vec::new();
    for i in (0..1000).step_by(2).take(50) {
        let d = c
            .domains()
            .snapshot()
            .into_iter()
            .find(|d| d.name() == domain_name(i))
            .unwrap();
        let (a, b, iss, h) = (
            cb_to_prop.clone(),
            call_to_prop.clone(),
            issued.clone(),
            hits.clone(),
        );
        d.connect_notify_local(Some("state"), move |d, _| {
            let now = Instant::now();
            if let Some(at) = d.last_event_instant() {
                a.borrow_mut()
                    .push(now.duration_since(at).as_secs_f64() * 1e6);
            }
            if let Some(t) = iss.take() {
                b.borrow_mut()
                    .push(now.duration_since(t).as_secs_f64() * 1e6);
            }
            h.set(h.get() + 1);
        });
        domains.push(d);
    }
    for r in 0..rounds {
        let d = &domains[r % domains.len()];
        let name = d.name();
        let pause = d.state() == DomainState::Running;
        let before = hits.get();
        issued.set(Some(Instant::now()));
        // The change is made on the worker, as any other libvirt call; the model
        // learns of it only through libvirt's event.
        // The job is queued at once; its reply is not needed, so the future is dropped.
        drop(c.with_connect(move |conn| {
            if let Ok(dom) = conn.lookup_domain_by_name(&name) {
                let _ = if pause { dom.suspend() } else { dom.resume() };
            }
        }));
        assert!(wait_until(Duration::from_secs(10), || hits.get() > before));
        // Let the confirming re-read land before the next round.
        pump(Duration::from_millis(2));
    }
    let (mut a, mut b) = (cb_to_prop.borrow().clone(), call_to_prop.borrow().clone());
    println!(
        "{} events: libvirt callback -> property notify p50 {:.0} us, p99 {:.0} us; \
         libvirt call issued -> property notify p50 {:.0} us, p99 {:.0} us",
        a.len(),
        percentile(&mut a, 0.5),
        percentile(&mut a, 0.99),
        percentile(&mut b, 0.5),
        percentile(&mut b, 0.99)
    );
    c.close();
}

fn main() {
    // `cargo test --all-targets` runs bench targets too, without `--bench`: no figures then.
    if !std::env::args().any(|a| a == "--bench") {
        println!("core bench: run it with `cargo bench --bench core`");
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    model::init();
    let ctx = glib::MainContext::default();
    let _owner = ctx.acquire().expect("main context");
    // Wakes iteration(true) regularly so wait_until checks its condition.
    let _beat = glib::timeout_add_local(Duration::from_millis(1), || glib::ControlFlow::Continue);
    let dir = std::env::temp_dir().join(format!("vireo-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "# vireo core bench ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "host CPUs: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    bench_fill(&dir, if quick { 1 } else { 3 });
    bench_stats(&dir, if quick { 5 } else { 20 });
    bench_latency(&dir, if quick { 50 } else { 400 });
    let _ = std::fs::remove_dir_all(&dir);
}
