//! The FUSE side: one `SimFs` per mount (`sys`, `dev`, `sim`), all sharing the
//! world. Paths are interned into inode numbers; every request looks the path
//! up in the tree of the current state, rebuilt only when the state's shape
//! changed (a core started or stopped, a channel or endpoint came or went).
pub mod files;
pub mod tree;

use crate::world::{lock, OpenFile, Shared, Source, World};
use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, IoctlFlags,
    LockOwner, OpenAccMode, OpenFlags, PollEvents, PollFlags, PollNotifier, ReplyAttr, ReplyCreate,
    ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyIoctl, ReplyOpen, ReplyPoll,
    ReplyWrite, Request, TimeOrNow, WriteFlags,
};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tree::{FileKind, Mount, Node, Tree};

const TTL: Duration = Duration::ZERO;

/// One mounted filesystem.
pub struct SimFs {
    mount: Mount,
    shared: Shared,
    inodes: Mutex<(HashMap<String, u64>, Vec<String>)>,
    /// The last tree built and the shape it was built for.
    tree: Mutex<Option<(u64, Arc<Tree>)>>,
}

impl SimFs {
    pub fn new(mount: Mount, shared: Shared) -> Self {
        SimFs {
            mount,
            shared,
            inodes: Mutex::new((HashMap::from([(String::new(), 1)]), vec![String::new()])),
            tree: Mutex::new(None),
        }
    }

    /// The tree of the current state `w` (held locked by the caller).
    fn tree(&self, w: &World) -> Arc<Tree> {
        let shape = tree::shape(w);
        let mut cached = self.tree.lock().unwrap_or_else(|e| e.into_inner());
        match cached.as_ref() {
            Some((s, t)) if *s == shape => t.clone(),
            _ => {
                let t = Arc::new(tree::build(w, self.mount));
                *cached = Some((shape, t.clone()));
                t
            }
        }
    }

    fn ino(&self, path: &str) -> u64 {
        let mut g = self.inodes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&i) = g.0.get(path) {
            return i;
        }
        g.1.push(path.to_string());
        let i = g.1.len() as u64;
        g.0.insert(path.to_string(), i);
        i
    }

    fn path(&self, ino: INodeNo) -> Option<String> {
        let g = self.inodes.lock().unwrap_or_else(|e| e.into_inner());
        g.1.get((ino.0 as usize).checked_sub(1)?).cloned()
    }

    /// The node at `ino` in the current tree.
    fn node(&self, ino: INodeNo) -> Option<(String, Node)> {
        let path = self.path(ino)?;
        let w = lock(&self.shared);
        let node = self.tree(&w).0.get(&path)?.clone();
        Some((path, node))
    }

    fn attr(&self, ino: u64, node: &Node) -> FileAttr {
        let (kind, perm, size) = match node {
            Node::Dir => (FileType::Directory, 0o755, 0),
            Node::File(_, mode) => (FileType::RegularFile, *mode, 4096),
            Node::Link(t) => (FileType::Symlink, 0o777, t.len() as u64),
        };
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: 0,
            atime: t,
            mtime: t,
            ctime: t,
            crtime: t,
            kind,
            perm,
            nlink: if kind == FileType::Directory { 2 } else { 1 },
            uid: 0,
            gid: 0,
            rdev: 0,
            blksize: 4096,
            flags: 0,
        }
    }
}

/// The process (thread group) a requesting thread belongs to.
fn process_of(tid: u32) -> u32 {
    std::fs::read_to_string(format!("/proc/{tid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Tgid:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(tid)
}

fn errno(e: i32) -> Errno {
    Errno::from_i32(e)
}

impl Filesystem for SimFs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let Some(dir) = self.path(parent) else {
            return reply.error(Errno::ENOENT);
        };
        let name = name.to_string_lossy();
        let path = if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        };
        let node = {
            let w = lock(&self.shared);
            self.tree(&w).0.get(&path).cloned()
        };
        match node {
            Some(node) => {
                let ino = self.ino(&path);
                reply.entry(&TTL, &self.attr(ino, &node), Generation(0));
            }
            None => reply.error(Errno::ENOENT),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.node(ino) {
            Some((_, node)) => reply.attr(&TTL, &self.attr(ino.0, &node)),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        _mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        // Truncation (a shell `>` opens with O_TRUNC) is accepted and ignored, as sysfs does.
        match (self.node(ino), size) {
            (Some((_, node)), None | Some(0)) => reply.attr(&TTL, &self.attr(ino.0, &node)),
            (Some(_), Some(_)) => reply.error(Errno::EINVAL),
            (None, _) => reply.error(Errno::ENOENT),
        }
    }

    fn mknod(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EACCES);
    }

    fn mkdir(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EACCES);
    }

    fn create(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        // sysfs and devtmpfs do not let files be created.
        reply.error(Errno::EACCES);
    }

    fn unlink(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EPERM);
    }

    fn rmdir(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EPERM);
    }

    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        match self.node(ino) {
            Some((_, Node::Link(t))) => reply.data(t.as_bytes()),
            Some(_) => reply.error(Errno::EINVAL),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let Some(dir) = self.path(ino) else {
            return reply.error(Errno::ENOENT);
        };
        let entries: Vec<(String, FileType)> = {
            let w = lock(&self.shared);
            let t = self.tree(&w);
            if t.0.get(&dir) != Some(&Node::Dir) {
                return reply.error(Errno::ENOTDIR);
            }
            t.children(&dir)
                .into_iter()
                .map(|(name, n)| {
                    let kind = match n {
                        Node::Dir => FileType::Directory,
                        Node::File(..) => FileType::RegularFile,
                        Node::Link(_) => FileType::Symlink,
                    };
                    (name, kind)
                })
                .collect()
        };
        let mut all = vec![
            (".".to_string(), FileType::Directory),
            ("..".to_string(), FileType::Directory),
        ];
        all.extend(entries);
        for (i, (name, kind)) in all.into_iter().enumerate().skip(offset as usize) {
            let child = if name == "." || name == ".." {
                ino.0
            } else if dir.is_empty() {
                self.ino(&name)
            } else {
                self.ino(&format!("{dir}/{name}"))
            };
            if reply.add(INodeNo(child), (i + 1) as u64, kind, &name) {
                break;
            }
        }
        reply.ok();
    }

    fn open(&self, req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let Some((_, node)) = self.node(ino) else {
            return reply.error(Errno::ENOENT);
        };
        let (kind, mode) = match node {
            Node::File(k, m) => (k, m),
            Node::Dir => return reply.error(Errno::EISDIR),
            Node::Link(_) => return reply.error(Errno::ELOOP),
        };
        let acc = flags.acc_mode();
        let wants_read = matches!(acc, OpenAccMode::O_RDONLY | OpenAccMode::O_RDWR);
        let wants_write = matches!(acc, OpenAccMode::O_WRONLY | OpenAccMode::O_RDWR);
        if (wants_read && mode & 0o444 == 0) || (wants_write && mode & 0o222 == 0) {
            return reply.error(Errno::EACCES);
        }
        let mut w = lock(&self.shared);
        let fh = w.next_fh;
        w.next_fh += 1;
        let kmsg_seq = w.kmsg.first_seq();
        if let FileKind::Cdev(n) = kind {
            let pid = process_of(req.pid());
            let p = &mut w.procs[n];
            p.cdev_holders.push((fh, pid));
            p.event(format!("cdev-open {pid}"));
        }
        files::open(&mut w, &kind);
        w.files.insert(
            fh,
            OpenFile {
                kmsg_seq,
                kind,
                shown: None,
            },
        );
        reply.opened(FileHandle(fh), FopenFlags::FOPEN_DIRECT_IO);
    }

    fn read(
        &self,
        req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let mut w = lock(&self.shared);
        let Some(kind) = w.files.get(&fh.0).map(|f| f.kind.clone()) else {
            return reply.error(Errno::EBADF);
        };
        let nonblock = flags.0 & libc::O_NONBLOCK != 0;
        let source = match kind {
            FileKind::Kmsg => Source::Kmsg,
            FileKind::Ept(m) => Source::Ept(m),
            kind => {
                return match files::read_at(&mut w, fh.0, &kind, offset, size) {
                    Ok(data) => reply.data(&data),
                    Err(e) => reply.error(errno(e)),
                };
            }
        };
        match w.read_now(&source, fh.0, size) {
            Ok(data) => reply.data(&data),
            Err(libc::EAGAIN) if !nonblock => {
                w.pending.push(crate::world::PendingRead {
                    source,
                    fh: fh.0,
                    pid: req.pid(),
                    size,
                    reply,
                });
                w.readers_waiting.notify_all();
            }
            Err(e) => reply.error(errno(e)),
        }
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let mut w = lock(&self.shared);
        let Some(kind) = w.files.get(&fh.0).map(|f| f.kind.clone()) else {
            return reply.error(Errno::EBADF);
        };
        if let Some(ms) = files::take_hang(&mut w, &kind) {
            drop(w);
            let shared = self.shared.clone();
            let data = data.to_vec();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(ms));
                let mut w = lock(&shared);
                match files::write(&mut w, &kind, &data) {
                    Ok(()) => reply.written(data.len() as u32),
                    Err(e) => reply.error(errno(e)),
                }
            });
            return;
        }
        match files::write(&mut w, &kind, data) {
            Ok(()) => reply.written(data.len() as u32),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        let mut w = lock(&self.shared);
        if let Some(f) = w.files.remove(&fh.0) {
            w.pending.retain(|p| p.fh != fh.0);
            w.pollers.retain(|(_, h, _)| *h != fh.0);
            files::release(&mut w, &f.kind, fh.0);
        }
        reply.ok();
    }

    fn ioctl(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: IoctlFlags,
        cmd: u32,
        in_data: &[u8],
        _out_size: u32,
        reply: ReplyIoctl,
    ) {
        let mut w = lock(&self.shared);
        let Some(kind) = w.files.get(&fh.0).map(|f| f.kind.clone()) else {
            return reply.error(Errno::EBADF);
        };
        match files::ioctl(&mut w, &kind, fh.0, cmd, in_data) {
            Ok(out) => reply.ioctl(0, &out),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn poll(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        ph: PollNotifier,
        _events: PollEvents,
        _flags: PollFlags,
        reply: ReplyPoll,
    ) {
        let mut w = lock(&self.shared);
        let Some(kind) = w.files.get(&fh.0).map(|f| f.kind.clone()) else {
            return reply.error(Errno::EBADF);
        };
        if let FileKind::Ept(m) = kind {
            let (readable, writable, gone) = crate::rpmsg::poll_mask(&w, m);
            let mut ev = PollEvents::empty();
            if readable {
                ev |= PollEvents::POLLIN | PollEvents::POLLRDNORM;
            }
            if writable {
                ev |= PollEvents::POLLOUT | PollEvents::POLLWRNORM;
            }
            if gone {
                ev |= PollEvents::POLLERR;
            }
            if !readable && !gone {
                w.watch(Source::Ept(m), fh.0, ph);
            }
            return reply.poll(ev);
        }
        let source = match kind {
            FileKind::Kmsg => Source::Kmsg,
            _ => {
                return reply.poll(
                    PollEvents::POLLIN
                        | PollEvents::POLLRDNORM
                        | PollEvents::POLLOUT
                        | PollEvents::POLLWRNORM,
                )
            }
        };
        if w.readable(&source, fh.0) {
            reply.poll(PollEvents::POLLIN | PollEvents::POLLRDNORM);
        } else {
            w.watch(source, fh.0, ph);
            reply.poll(PollEvents::empty());
        }
    }
}
