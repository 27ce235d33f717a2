//! Running a short question in a forked copy of this process, for answers whose asking
//! leaves something behind in the asker: loading the GL driver to learn which it is
//! maps Mesa's driver (~50 MiB for llvmpipe) into the process for good. The child asks,
//! writes the answer to a pipe and exits; the parent only reads the answer.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Why a question could not be asked in a child.
#[derive(Debug, thiserror::Error)]
pub enum ForkError {
    /// `fork` copies only the calling thread; with others running, a lock one of them
    /// held stays locked forever in the child.
    #[error("the process already runs {0} threads")]
    Threads(usize),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the child gave no answer within {0:?}")]
    TimedOut(Duration),
}

/// Runs `question` in a forked child and returns what it returned, waiting at most
/// `timeout` (then the child is killed). Refuses while the process has more than one
/// thread. The child never returns into the caller: it ends with `_exit`, without
/// running destructors or flushing the parent's buffered output twice.
pub fn ask_in_child(
    timeout: Duration,
    question: fn() -> Option<String>,
) -> Result<Option<String>, ForkError> {
    let threads = std::fs::read_dir("/proc/self/task")?.count();
    if threads != 1 {
        return Err(ForkError::Threads(threads));
    }
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into the two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    // SAFETY: both descriptors are new and owned by nothing else.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: the process has a single thread (checked above), so the child is a whole
    // copy of it with no lock held by a thread that does not exist there.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    if pid == 0 {
        drop(read_end);
        let answer = std::panic::catch_unwind(question).ok().flatten();
        if let Some(answer) = answer {
            let mut bytes = answer.as_bytes();
            while !bytes.is_empty() {
                // SAFETY: writes from a live slice to the pipe this child owns.
                let n = unsafe {
                    libc::write(write_end.as_raw_fd(), bytes.as_ptr().cast(), bytes.len())
                };
                if n <= 0 {
                    break;
                }
                bytes = &bytes[n as usize..];
            }
        }
        // SAFETY: ends the child at once; nothing of the parent's state is touched.
        unsafe { libc::_exit(0) };
    }
    drop(write_end);
    let answer = read_until_closed(&read_end, timeout);
    if answer.is_err() {
        // SAFETY: kill(2) of the child forked above, which has not been reaped yet.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let mut status = 0;
    // SAFETY: reaps the child forked above; `status` is a valid out pointer.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let answer = answer?;
    Ok((!answer.is_empty()).then(|| String::from_utf8_lossy(&answer).into_owned()))
}

/// Everything written to `fd` until its writer closes it, or `TimedOut`.
fn read_until_closed(fd: &OwnedFd, timeout: Duration) -> Result<Vec<u8>, ForkError> {
    let deadline = Instant::now() + timeout;
    let mut answer = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ForkError::TimedOut(timeout));
        }
        let mut poll = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, for the duration of the call.
        let ready =
            unsafe { libc::poll(&mut poll, 1, left.as_millis().min(i32::MAX as u128) as i32) };
        if ready < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err.into());
        }
        if ready == 0 {
            continue;
        }
        let mut buffer = [0u8; 512];
        // SAFETY: reads into a live buffer of the length given.
        let n = unsafe { libc::read(fd.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) };
        match n {
            0 => return Ok(answer),
            n if n > 0 => answer.extend_from_slice(&buffer[..n as usize]),
            _ => {
                let err = std::io::Error::last_os_error();
                if err.kind() != std::io::ErrorKind::Interrupted {
                    return Err(err.into());
                }
            }
        }
    }
}
