//! Following a growing file across rename rotation and copy-and-truncate rotation.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use palisade_audit::event::read::{ReadOptions, read_paths};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn line(i: u32) -> String {
    format!(
        "{{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"auditID\":\"id-{i:05}\",\"stage\":\"ResponseComplete\",\"verb\":\"get\",\"user\":{{\"username\":\"u\"}}}}\n"
    )
}

fn append(file: &mut File, from: u32, to: u32) {
    for i in from..to {
        file.write_all(line(i).as_bytes()).unwrap();
    }
    file.flush().unwrap();
}

fn open_append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

/// Waits until `count` ids have arrived.
fn wait_for(ids: &mpsc::Receiver<String>, seen: &mut Vec<String>, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < count {
        let left = deadline.saturating_duration_since(Instant::now());
        match ids.recv_timeout(left) {
            Ok(id) => seen.push(id),
            Err(_) => panic!("only {} of {count} events arrived", seen.len()),
        }
    }
}

#[test]
fn every_line_arrives_once_across_rename_and_copytruncate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let mut writer = open_append(&path);
    append(&mut writer, 0, 50);

    let stop = Arc::new(AtomicBool::new(false));
    let options = ReadOptions {
        follow: true,
        poll_interval: Duration::from_millis(20),
        stop: Some(Arc::clone(&stop)),
        ..ReadOptions::default()
    };
    let (send, ids) = mpsc::channel();
    let (error_send, errors) = mpsc::channel();
    let reading = {
        let path = path.clone();
        std::thread::spawn(move || {
            read_paths(
                &[path],
                &options,
                |e| send.send(e.audit_id().unwrap().to_string()).unwrap(),
                |e| error_send.send(e.to_string()).unwrap(),
            )
        })
    };
    let mut seen = Vec::new();
    wait_for(&ids, &mut seen, 50);

    // Growing, with a line written in two parts a few polls apart.
    append(&mut writer, 50, 100);
    let half = line(100);
    let (head, tail) = half.split_at(40);
    writer.write_all(head.as_bytes()).unwrap();
    writer.flush().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    writer.write_all(tail.as_bytes()).unwrap();
    append(&mut writer, 101, 150);

    // Rename rotation: the writer keeps writing to the old file until it reopens.
    std::fs::rename(&path, dir.path().join("audit.log.1")).unwrap();
    append(&mut writer, 150, 160);
    std::thread::sleep(Duration::from_millis(60));
    append(&mut writer, 160, 170);
    let mut writer = open_append(&path);
    append(&mut writer, 170, 250);
    wait_for(&ids, &mut seen, 250);

    // Copy-and-truncate rotation: the file is copied, then emptied in place, and the
    // writer (appending) goes on at its new end.
    std::fs::copy(&path, dir.path().join("audit.log.2")).unwrap();
    writer.set_len(0).unwrap();
    append(&mut writer, 250, 260);
    wait_for(&ids, &mut seen, 260);
    append(&mut writer, 260, 400);

    wait_for(&ids, &mut seen, 400);
    stop.store(true, Ordering::Release);
    let stats = reading.join().unwrap();
    seen.extend(ids.try_iter());
    let expected: Vec<String> = (0..400).map(|i| format!("id-{i:05}")).collect();
    assert_eq!(seen, expected, "every line once, in order");
    let errors: Vec<String> = errors.try_iter().collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(stats.events, 400);
    assert_eq!(
        stats.files, 2,
        "the first file and the one created at rotation"
    );
}

#[test]
fn an_unfinished_last_line_is_reported_when_following_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let mut writer = open_append(&path);
    append(&mut writer, 0, 3);
    writer.write_all(b"{\"kind\":\"Event\",\"verb\":").unwrap();
    writer.flush().unwrap();
    let stop = Arc::new(AtomicBool::new(true));
    let options = ReadOptions {
        follow: true,
        poll_interval: Duration::from_millis(10),
        stop: Some(stop),
        ..ReadOptions::default()
    };
    let mut errors = Vec::new();
    let stats = read_paths(&[&path], &options, |_| {}, |e| errors.push(e.to_string()));
    assert_eq!(stats.events, 3);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].ends_with("audit.log:4: truncated: the input ends inside this line's event"),
        "{}",
        errors[0]
    );
}
