/*
 * pci.h: PCI configuration space through I/O ports 0xCF8/0xCFC
 * (arch/x86/pci/direct.c, Linux's pci_conf1 access), enough to find a
 * device on bus 0 and read where its BARs are.
 */
#ifndef LINUX_PCI_H
#define LINUX_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_VENDOR_ID     0x00
#define PCI_COMMAND       0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_CLASS_REVISION 0x08 /* class code in bits 31:8 */
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_CLASS_DISPLAY_VGA 0x0300

/* A function on bus 0. */
struct pci_dev {
	unsigned int devfn;     /* device << 3 | function */
	uint16_t vendor, device;
	uint32_t class;         /* class << 8 | prog-if (24 bits) */
};

uint32_t pci_read_config_dword(const struct pci_dev *dev, unsigned int reg);
void pci_write_config_dword(const struct pci_dev *dev, unsigned int reg, uint32_t val);

/*
 * pci_get_class - the first function on bus 0 whose class (bits 23:8 of the
 * class code) is class16, e.g. PCI_CLASS_DISPLAY_VGA.
 * returns: true and *dev, or false.
 */
bool pci_get_class(unsigned int class16, struct pci_dev *dev);

/*
 * pci_resource - memory BAR bar (0..5) of dev: its physical start and size
 * (sized by writing all ones, with memory decoding off, as Linux's
 * __pci_read_base). A 64-bit BAR takes two slots.
 * returns: false for an I/O BAR, an empty one, or bar out of range.
 */
bool pci_resource(const struct pci_dev *dev, unsigned int bar, uint64_t *start, uint64_t *size);

/*
 * drivers/video/bochs_vga.c: QEMU's standard VGA, if bus 0 has it: its
 * framebuffer mapped write-combining at vga_fb, its registers uncached at
 * vga_mmio (NULL when absent); prints the [pci] block.
 */
void bochs_vga_init(void);
extern void *vga_fb, *vga_mmio;
extern uint64_t vga_fb_phys, vga_fb_size, vga_mmio_phys;

#endif /* LINUX_PCI_H */
