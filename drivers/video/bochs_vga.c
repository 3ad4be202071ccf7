/*
 * bochs_vga.c: QEMU's standard VGA (PCI 1234:1111, the "Bochs" display
 * adapter) mapped the way a Linux driver maps it (drivers/gpu/drm/tiny/
 * bochs.c): its framebuffer (BAR 0) with ioremap_wc, write-combining, and
 * its registers (BAR 2) with ioremap, uncached (UC-). It proves both
 * mappings by reading the Bochs display interface's ID register and by a
 * write and read back in the framebuffer, and prints the [pci] block.
 */
#include <asm/console.h>
#include <asm/io.h>
#include <linux/pci.h>
#include <linux/vmalloc.h>

#define VBE_DISPI_MMIO_OFFSET 0x500 /* the Bochs display interface in BAR 2: 16-bit registers */
#define VBE_DISPI_INDEX_ID    0x0

void *vga_fb, *vga_mmio;
uint64_t vga_fb_phys, vga_fb_size, vga_mmio_phys;

void bochs_vga_init(void)
{
	struct pci_dev dev;
	uint64_t mmio_size;

	stage_begin("pci", "the VGA's framebuffer (ioremap_wc) and registers (ioremap)");
	if (!pci_get_class(PCI_CLASS_DISPLAY_VGA, &dev) || dev.vendor != 0x1234 || dev.device != 0x1111 ||
	    !pci_resource(&dev, 0, &vga_fb_phys, &vga_fb_size) || !pci_resource(&dev, 2, &vga_mmio_phys, &mmio_size)) {
		stage_printk("  no QEMU standard VGA (PCI 1234:1111 with BARs 0 and 2) on bus 0\n");
		return;
	}
	vga_fb = ioremap_wc(vga_fb_phys, vga_fb_size);
	vga_mmio = ioremap(vga_mmio_phys, mmio_size);
	stage_printk("  00:%02x.%u VGA %04x:%04x\n", dev.devfn >> 3, dev.devfn & 7, dev.vendor, dev.device);
	stage_printk("  BAR0 [0x%08llx-0x%08llx) framebuffer: ioremap_wc -> 0x%016llx\n",
		     (unsigned long long)vga_fb_phys, (unsigned long long)(vga_fb_phys + vga_fb_size),
		     (unsigned long long)(uintptr_t)vga_fb);
	stage_printk("  BAR2 [0x%08llx-0x%08llx) registers: ioremap -> 0x%016llx\n",
		     (unsigned long long)vga_mmio_phys, (unsigned long long)(vga_mmio_phys + mmio_size),
		     (unsigned long long)(uintptr_t)vga_mmio);
	if (!vga_fb || !vga_mmio)
		return;
	volatile uint16_t *dispi = (volatile uint16_t *)((uint8_t *)vga_mmio + VBE_DISPI_MMIO_OFFSET);
	volatile uint32_t *fb = vga_fb;
	uint32_t old = fb[0];
	fb[0] = 0x5a17ab1e;
	bool fb_ok = fb[0] == 0x5a17ab1e;
	fb[0] = old;
	stage_printk("  VBE id 0x%04x through the registers; framebuffer write and read back: %s\n",
		     dispi[VBE_DISPI_INDEX_ID], fb_ok ? "ok" : "FAILED");
}
