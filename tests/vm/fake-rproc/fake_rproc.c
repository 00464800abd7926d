// SPDX-License-Identifier: GPL-2.0
/*
 * fake_rproc: remote processors that run inside the kernel, so that user space
 * can be tested against Linux's own remoteproc and rpmsg stack without a SoC.
 *
 * Each instance (module parameter `names=m4,r5`) is a platform device with a
 * remoteproc registered through devm_rproc_add (auto_boot off). Firmware goes
 * through the stock ELF loader into 1 MiB of device memory at device address
 * 0x2000_0000. On start a kernel thread plays the firmware's behaviour script
 * (section found through vendor resource 128): it writes the trace buffer
 * declared in the resource table, crashes through rproc_report_crash, and is
 * the remote side of virtio-rpmsg on the vrings (name-service announcements of
 * rpmsg-tty and rpmsg-raw, messages, echo). The script language is the one the
 * hybrid-sim simulator implements (tests/sim/README.md). The processor named by
 * `attached=` is already running when registered, so Linux attaches to it
 * (state `attached`); it can be detached, re-attached, or stopped.
 */
#include <linux/delay.h>
#include <linux/firmware.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/remoteproc.h>
#include <linux/rpmsg/ns.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

/* Exported by remoteproc, declared only in its private header. */
irqreturn_t rproc_vq_interrupt(struct rproc *rproc, int notifyid);
int rproc_elf_sanity_check(struct rproc *rproc, const struct firmware *fw);
u64 rproc_elf_get_boot_addr(struct rproc *rproc, const struct firmware *fw);
int rproc_elf_load_segments(struct rproc *rproc, const struct firmware *fw);
int rproc_elf_load_rsc_table(struct rproc *rproc, const struct firmware *fw);
struct resource_table *rproc_elf_find_loaded_rsc_table(struct rproc *rproc,
						       const struct firmware *fw);

#define FAKE_DA 0x20000000u
#define FAKE_MEM_SIZE SZ_1M
#define FAKE_MAX_CORES 8
#define RSC_SCRIPT 128
#define FAKE_MAX_LINES 256
#define FAKE_MAX_CHANNELS 4
#define FAKE_FIRST_ADDR 0x400
#define FAKE_MSG_MAX 496 /* 512-byte rpmsg buffers minus the header */

static char *names[FAKE_MAX_CORES] = { "m4" };
static int nr_names = 1;
module_param_array(names, charp, &nr_names, 0444);
MODULE_PARM_DESC(names, "names of the fake remote processors (default m4)");
static unsigned int reset_ms;
module_param(reset_ms, uint, 0644);
MODULE_PARM_DESC(reset_ms, "time a crashed core takes to reset and reload in recovery (ms)");
static char *attached;
module_param(attached, charp, 0444);
MODULE_PARM_DESC(attached, "name of a processor already running when Linux boots (attached)");

/* The header every rpmsg message starts with (virtio_rpmsg_bus.c). */
struct fake_rpmsg_hdr {
	u32 src;
	u32 dst;
	u32 reserved;
	u16 len;
	u16 flags;
	u8 data[];
} __packed;

struct fake_rproc {
	struct rproc *rproc;
	void *mem;
	u32 script_da, script_len;
	struct task_struct *task;
	wait_queue_head_t wq;
	atomic_t kicks;

	/* Owned by the thread, reset on every start. */
	char *script;
	char *lines[FAKE_MAX_LINES];
	int nlines;
	char *trace;
	u32 trace_len, trace_pos;
	struct fw_rsc_vdev *vdev;
	bool vdev_ready, announced, echo, rx_seen, dead, recovering;
	struct vring vr[2];
	u16 last_avail[2];
	char chan[FAKE_MAX_CHANNELS][RPMSG_NAME_SIZE];
	u32 host_addr[FAKE_MAX_CHANNELS];
	int nchan;
};

static struct platform_device *fake_pdevs[FAKE_MAX_CORES];

static void *fake_da_to_va(struct rproc *rproc, u64 da, size_t len, bool *is_iomem)
{
	struct fake_rproc *fr = rproc->priv;

	if (da < FAKE_DA || da + len > FAKE_DA + FAKE_MEM_SIZE || len > FAKE_MEM_SIZE)
		return NULL;
	return fr->mem + (da - FAKE_DA);
}

static int fake_handle_rsc(struct rproc *rproc, u32 type, void *rsc, int offset, int avail)
{
	struct fake_rproc *fr = rproc->priv;
	u32 *w = rsc;

	if (type != RSC_SCRIPT)
		return RSC_IGNORED;
	if (avail < 8)
		return -EINVAL;
	fr->script_da = w[0];
	fr->script_len = w[1];
	return RSC_HANDLED;
}

static int fake_load(struct rproc *rproc, const struct firmware *fw)
{
	struct fake_rproc *fr = rproc->priv;

	/*
	 * Real cores take a while to reset and reload: while recovery does it,
	 * the kernel reports the core `offline`.
	 */
	if (fr->recovering && reset_ms)
		msleep(reset_ms);
	fr->recovering = false;
	/* A fresh core: nothing of the previous run (trace included) survives. */
	memset(fr->mem, 0, FAKE_MEM_SIZE);
	return rproc_elf_load_segments(rproc, fw);
}

/*
 * A firmware without a resource table still boots, as with the i.MX and STM32
 * drivers; rproc_elf_load_rsc_table alone would refuse it with EINVAL.
 */
static int fake_parse_fw(struct rproc *rproc, const struct firmware *fw)
{
	struct fake_rproc *fr = rproc->priv;

	/* Until this firmware's vendor resource says otherwise: no script. */
	fr->script_da = 0;
	fr->script_len = 0;
	if (rproc_elf_load_rsc_table(rproc, fw))
		dev_info(&rproc->dev, "no resource table in the firmware\n");
	return 0;
}

static void fake_kick(struct rproc *rproc, int vqid)
{
	struct fake_rproc *fr = rproc->priv;

	atomic_inc(&fr->kicks);
	wake_up(&fr->wq);
}

/* ---- trace buffer: a ring without read pointer, as firmware writes it ---- */

static void fake_trace(struct fake_rproc *fr, const char *text)
{
	size_t n = strlen(text);
	size_t i;

	if (!fr->trace || fr->trace_len < 2)
		return;
	for (i = 0; i <= n; i++) {
		fr->trace[fr->trace_pos] = i < n ? text[i] : '\n';
		fr->trace_pos = (fr->trace_pos + 1) % fr->trace_len;
	}
}

/* ---- rpmsg remote side: vring0 carries messages to the host, vring1 from it ---- */

static bool fake_vdev_ok(struct fake_rproc *fr)
{
	return fr->vdev && (READ_ONCE(fr->vdev->status) & VIRTIO_CONFIG_S_DRIVER_OK);
}

static bool fake_vdev_setup(struct fake_rproc *fr)
{
	int i;

	if (fr->vdev_ready)
		return fake_vdev_ok(fr);
	if (!fake_vdev_ok(fr))
		return false;
	for (i = 0; i < 2; i++) {
		struct fw_rsc_vdev_vring *r = &fr->vdev->vring[i];
		size_t size = vring_size(r->num, r->align);
		void *va = rproc_da_to_va(fr->rproc, r->da, size, NULL);

		if (!va)
			return false;
		vring_init(&fr->vr[i], r->num, va, r->align);
		fr->last_avail[i] = 0;
	}
	fr->vdev_ready = true;
	return true;
}

static int fake_send(struct fake_rproc *fr, u32 src, u32 dst, const void *data, size_t len)
{
	struct vring *vr = &fr->vr[0];
	struct fake_rpmsg_hdr *msg;
	struct vring_desc *d;
	u16 head, used;

	if (!fake_vdev_setup(fr))
		return -ENODEV;
	if (fr->last_avail[0] == READ_ONCE(vr->avail->idx))
		return -ENOBUFS;
	/* Read the ring entry only after the index that published it. */
	virt_rmb();
	head = vr->avail->ring[fr->last_avail[0] % vr->num];
	d = &vr->desc[head];
	if (d->len < sizeof(*msg))
		return -EINVAL;
	len = min_t(size_t, len, d->len - sizeof(*msg));
	msg = phys_to_virt(d->addr);
	msg->src = src;
	msg->dst = dst;
	msg->reserved = 0;
	msg->len = len;
	msg->flags = 0;
	memcpy(msg->data, data, len);
	used = vr->used->idx;
	vr->used->ring[used % vr->num].id = head;
	vr->used->ring[used % vr->num].len = sizeof(*msg) + len;
	/* The message and its used entry are visible before the index that publishes them. */
	virt_wmb();
	WRITE_ONCE(vr->used->idx, used + 1);
	fr->last_avail[0]++;
	rproc_vq_interrupt(fr->rproc, fr->vdev->vring[0].notifyid);
	return 0;
}

/* Sends, waiting (bounded) for the host to post receive buffers. */
static void fake_send_wait(struct fake_rproc *fr, u32 src, u32 dst, const void *data, size_t len)
{
	int tries;

	for (tries = 0; tries < 200 && !kthread_should_stop(); tries++) {
		if (fake_send(fr, src, dst, data, len) == 0)
			return;
		usleep_range(10000, 20000);
	}
	dev_warn(&fr->rproc->dev, "fake-rproc: dropped a message to 0x%x\n", dst);
}

static void fake_announce(struct fake_rproc *fr)
{
	struct rpmsg_ns_msg ns = {};
	int i;

	if (fr->announced || !fake_vdev_setup(fr))
		return;
	fr->announced = true;
	if (!fr->nchan) {
		strscpy(fr->chan[0], "rpmsg-tty", RPMSG_NAME_SIZE);
		strscpy(fr->chan[1], "rpmsg-raw", RPMSG_NAME_SIZE);
		fr->nchan = 2;
	}
	for (i = 0; i < fr->nchan; i++) {
		memset(&ns, 0, sizeof(ns));
		strscpy(ns.name, fr->chan[i], RPMSG_NAME_SIZE);
		ns.addr = FAKE_FIRST_ADDR + i;
		ns.flags = RPMSG_NS_CREATE;
		/*
		 * The host's endpoints are allocated in probe order from 1024;
		 * the real address is learnt from the first message received.
		 */
		fr->host_addr[i] = 1024 + i;
		fake_send_wait(fr, FAKE_FIRST_ADDR + i, RPMSG_NS_ADDR, &ns, sizeof(ns));
	}
}

static int fake_channel(struct fake_rproc *fr, const char *prefix)
{
	int i;

	for (i = 0; i < fr->nchan; i++)
		if (!strncmp(fr->chan[i], prefix, strlen(prefix)))
			return i;
	return -1;
}

static void fake_send_line(struct fake_rproc *fr, int ch, const char *text)
{
	char buf[FAKE_MSG_MAX];
	size_t n;

	if (ch < 0)
		return;
	strscpy(buf, text, sizeof(buf) - 1);
	n = strlen(buf);
	buf[n++] = '\n';
	fake_announce(fr);
	fake_send_wait(fr, FAKE_FIRST_ADDR + ch, fr->host_addr[ch], buf, n);
}

/* Takes what the host sent on vring1; echoes it when asked to. */
static void fake_receive(struct fake_rproc *fr)
{
	struct vring *vr = &fr->vr[1];
	u8 buf[FAKE_MSG_MAX];
	bool any = false;

	if (!fake_vdev_setup(fr))
		return;
	while (fr->last_avail[1] != READ_ONCE(vr->avail->idx)) {
		struct fake_rpmsg_hdr *msg;
		struct vring_desc *d;
		u32 src = 0, dst = 0;
		size_t len = 0;
		u16 head, used;

		/* Read the ring entry only after the index that published it. */
		virt_rmb();
		head = vr->avail->ring[fr->last_avail[1] % vr->num];
		d = &vr->desc[head];
		if (d->len >= sizeof(*msg)) {
			msg = phys_to_virt(d->addr);
			src = msg->src;
			dst = msg->dst;
			len = min_t(size_t, d->len - sizeof(*msg), sizeof(buf));
			len = min_t(size_t, msg->len, len);
			memcpy(buf, msg->data, len);
		}
		used = vr->used->idx;
		vr->used->ring[used % vr->num].id = head;
		vr->used->ring[used % vr->num].len = 0;
		/* The used entry is visible before the index that publishes it. */
		virt_wmb();
		WRITE_ONCE(vr->used->idx, used + 1);
		fr->last_avail[1]++;
		any = true;

		if (dst >= FAKE_FIRST_ADDR && dst < FAKE_FIRST_ADDR + fr->nchan) {
			fr->host_addr[dst - FAKE_FIRST_ADDR] = src;
			fr->rx_seen = true;
			if (fr->echo && !fr->dead)
				fake_send_wait(fr, dst, src, buf, len);
		}
	}
	if (any)
		rproc_vq_interrupt(fr->rproc, fr->vdev->vring[1].notifyid);
}

/* ---- the behaviour script ---- */

/* Lets time pass as a running core: serves rpmsg, returns early on stop. */
static void fake_idle(struct fake_rproc *fr, unsigned long timeout)
{
	wait_event_interruptible_timeout(fr->wq, kthread_should_stop() || atomic_read(&fr->kicks),
					 timeout);
	atomic_set(&fr->kicks, 0);
	if (fr->rproc->state == RPROC_CRASHED)
		fr->dead = true;
	if (fr->dead)
		return;
	if (fr->vdev && !fr->announced)
		fake_announce(fr);
	if (fr->announced)
		fake_receive(fr);
}

static void fake_sleep(struct fake_rproc *fr, unsigned int ms)
{
	unsigned long end = jiffies + msecs_to_jiffies(ms);

	while (!kthread_should_stop() && !fr->dead && time_before(jiffies, end))
		fake_idle(fr, min_t(unsigned long, end - jiffies, msecs_to_jiffies(20)));
}

static void fake_subst(char *out, size_t size, const char *text, int n)
{
	const char *p = strstr(text, "{n}");

	if (!p || n < 1) {
		strscpy(out, text, size);
		return;
	}
	snprintf(out, size, "%.*s%d%s", (int)(p - text), text, n, p + 3);
}

static void fake_crash(struct fake_rproc *fr, const char *type)
{
	enum rproc_crash_type t = RPROC_FATAL_ERROR;

	if (!strcmp(type, "mmu-fault"))
		t = RPROC_MMUFAULT;
	else if (!strcmp(type, "watchdog"))
		t = RPROC_WATCHDOG;
	fr->dead = true;
	rproc_report_crash(fr->rproc, t);
}

static void fake_split_script(struct fake_rproc *fr)
{
	char *p = fr->script, *line;

	fr->nlines = 0;
	while (p && (line = strsep(&p, "\n")) && fr->nlines < FAKE_MAX_LINES) {
		line = strim(line);
		if (!*line || *line == '#')
			continue;
		if (!strncmp(line, "announce ", 9) && fr->nchan < FAKE_MAX_CHANNELS) {
			strscpy(fr->chan[fr->nchan++], strim(line + 9), RPMSG_NAME_SIZE);
			continue;
		}
		fr->lines[fr->nlines++] = line;
	}
}

static int fake_run(void *data)
{
	struct fake_rproc *fr = data;
	int pc = 0, loop_start = -1, loop_left = 0, iteration = 0;
	char text[FAKE_MSG_MAX];
	bool halted = false;

	fake_split_script(fr);
	while (!kthread_should_stop()) {
		char *line, *arg;
		unsigned int n;

		if (halted || fr->dead || pc >= fr->nlines) {
			fake_idle(fr, msecs_to_jiffies(50));
			continue;
		}
		line = fr->lines[pc++];
		arg = strchr(line, ' ');
		arg = arg ? skip_spaces(arg) : line + strlen(line);
		fake_subst(text, sizeof(text), arg, loop_start >= 0 ? iteration : 0);

		if (!strncmp(line, "trace", 5) && (line[5] == ' ' || !line[5])) {
			fake_trace(fr, text);
		} else if (!strncmp(line, "tty ", 4)) {
			fake_send_line(fr, fake_channel(fr, "rpmsg-tty"), text);
		} else if (!strncmp(line, "ept ", 4)) {
			int ch = fake_channel(fr, "rpmsg-raw");

			fake_send_line(fr, ch >= 0 ? ch : fr->nchan - 1, text);
		} else if (!strncmp(line, "sleep ", 6) && !kstrtouint(arg, 10, &n)) {
			fake_sleep(fr, n);
		} else if (!strncmp(line, "repeat ", 7) && !kstrtouint(arg, 10, &n)) {
			loop_start = pc;
			loop_left = n;
			iteration = 1;
			if (!n) {
				while (pc < fr->nlines && strcmp(fr->lines[pc], "end"))
					pc++;
				pc++;
				loop_start = -1;
			}
		} else if (!strcmp(line, "end")) {
			if (loop_start >= 0 && --loop_left > 0) {
				pc = loop_start;
				iteration++;
			} else {
				loop_start = -1;
			}
		} else if (!strncmp(line, "crash", 5)) {
			fake_crash(fr, arg);
		} else if (!strcmp(line, "halt")) {
			halted = true;
		} else if (!strcmp(line, "wait-rx")) {
			while (!fr->rx_seen && !fr->dead && !kthread_should_stop())
				fake_idle(fr, msecs_to_jiffies(50));
		} else if (!strcmp(line, "echo")) {
			fr->echo = true;
		} else {
			dev_warn(&fr->rproc->dev, "fake-rproc: unknown script line '%s'\n", line);
		}
		cond_resched();
	}
	return 0;
}

/* Finds the trace buffer and the vdev in the resource table loaded into device memory. */
static void fake_parse_table(struct fake_rproc *fr)
{
	struct resource_table *t = fr->rproc->table_ptr;
	size_t size = fr->rproc->table_sz;
	u32 i;

	if (!t || size < sizeof(*t))
		return;
	for (i = 0; i < t->num && sizeof(*t) + (i + 1) * sizeof(u32) <= size; i++) {
		u32 off = t->offset[i];
		struct fw_rsc_hdr *hdr = (void *)t + off;

		if (off + sizeof(*hdr) > size)
			break;
		if (hdr->type == RSC_TRACE && !fr->trace) {
			struct fw_rsc_trace *tr = (void *)hdr->data;

			fr->trace = fake_da_to_va(fr->rproc, tr->da, tr->len, NULL);
			fr->trace_len = tr->len;
		} else if (hdr->type == RSC_VDEV && !fr->vdev) {
			fr->vdev = (void *)hdr->data;
		}
	}
}

static int fake_boot(struct fake_rproc *fr);

static int fake_start(struct rproc *rproc)
{
	struct fake_rproc *fr = rproc->priv;
	char *script = NULL;

	if (fr->script_len && fr->script_len <= FAKE_MEM_SIZE) {
		void *va = fake_da_to_va(rproc, fr->script_da, fr->script_len, NULL);

		script = va ? kmemdup_nul(va, fr->script_len, GFP_KERNEL) : NULL;
		if (!script)
			return -ENOMEM;
	}
	fr->script = script;
	return fake_boot(fr);
}

/* Resets what the thread owns and starts it. */
static int fake_boot(struct fake_rproc *fr)
{
	struct rproc *rproc = fr->rproc;

	fr->nlines = 0;
	fr->trace = NULL;
	fr->trace_len = 0;
	fr->trace_pos = 0;
	fr->vdev = NULL;
	fr->vdev_ready = false;
	fr->announced = false;
	fr->echo = false;
	fr->rx_seen = false;
	fr->dead = false;
	fr->nchan = 0;
	atomic_set(&fr->kicks, 0);
	fake_parse_table(fr);

	fr->task = kthread_run(fake_run, fr, "fake-rproc/%s", rproc->name);
	if (IS_ERR(fr->task)) {
		int err = PTR_ERR(fr->task);

		fr->task = NULL;
		kfree(fr->script);
		fr->script = NULL;
		return err;
	}
	return 0;
}

static int fake_stop(struct rproc *rproc)
{
	struct fake_rproc *fr = rproc->priv;

	/* Stopped by the kernel's recovery: the reload comes next (see fake_load). */
	fr->recovering = rproc->state == RPROC_CRASHED && !rproc->recovery_disabled;

	if (fr->task) {
		kthread_stop(fr->task);
		fr->task = NULL;
	}
	kfree(fr->script);
	fr->script = NULL;
	fr->trace = NULL;
	fr->vdev = NULL;
	return 0;
}

/* A core that was running before Linux: no firmware, no resource table. */
static int fake_attach(struct rproc *rproc)
{
	struct fake_rproc *fr = rproc->priv;

	fr->script = NULL;
	return fake_boot(fr);
}

static const struct rproc_ops fake_ops = {
	.start = fake_start,
	.stop = fake_stop,
	.attach = fake_attach,
	.detach = fake_stop,
	.kick = fake_kick,
	.da_to_va = fake_da_to_va,
	.parse_fw = fake_parse_fw,
	.find_loaded_rsc_table = rproc_elf_find_loaded_rsc_table,
	.handle_rsc = fake_handle_rsc,
	.load = fake_load,
	.sanity_check = rproc_elf_sanity_check,
	.get_boot_addr = rproc_elf_get_boot_addr,
};

static void fake_free_mem(void *mem)
{
	vfree(mem);
}

static int fake_probe(struct platform_device *pdev)
{
	const char *name = names[pdev->id];
	struct fake_rproc *fr;
	struct rproc *rproc;
	int ret;

	rproc = devm_rproc_alloc(&pdev->dev, name, &fake_ops, NULL, sizeof(*fr));
	if (!rproc)
		return -ENOMEM;
	fr = rproc->priv;
	fr->rproc = rproc;
	init_waitqueue_head(&fr->wq);
	fr->mem = vzalloc(FAKE_MEM_SIZE);
	if (!fr->mem)
		return -ENOMEM;
	ret = devm_add_action_or_reset(&pdev->dev, fake_free_mem, fr->mem);
	if (ret)
		return ret;
	/* Linux attaches by itself (auto boot) to a core found running. */
	if (attached && !strcmp(attached, name))
		rproc->state = RPROC_DETACHED;
	rproc->auto_boot = rproc->state == RPROC_DETACHED;
	platform_set_drvdata(pdev, rproc);
	return devm_rproc_add(&pdev->dev, rproc);
}

static struct platform_driver fake_driver = {
	.probe = fake_probe,
	.driver = { .name = "fake-rproc" },
};

static void fake_unregister_devices(void)
{
	int i;

	for (i = FAKE_MAX_CORES - 1; i >= 0; i--) {
		if (fake_pdevs[i])
			platform_device_unregister(fake_pdevs[i]);
		fake_pdevs[i] = NULL;
	}
}

static int __init fake_init(void)
{
	int i, ret;

	ret = platform_driver_register(&fake_driver);
	if (ret)
		return ret;
	for (i = 0; i < nr_names; i++) {
		struct platform_device *pdev;

		pdev = platform_device_register_simple("fake-rproc", i, NULL, 0);
		if (IS_ERR(pdev)) {
			ret = PTR_ERR(pdev);
			fake_unregister_devices();
			platform_driver_unregister(&fake_driver);
			return ret;
		}
		fake_pdevs[i] = pdev;
	}
	return 0;
}

static void __exit fake_exit(void)
{
	fake_unregister_devices();
	platform_driver_unregister(&fake_driver);
}

module_init(fake_init);
module_exit(fake_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Fake remote processors for testing user space against remoteproc/rpmsg");
