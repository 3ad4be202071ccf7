/*
 * direct.c: PCI configuration mechanism #1 (see linux/pci.h; Linux's
 * arch/x86/pci/direct.c): the address 0x80000000 | bus << 16 | devfn << 8 |
 * register goes to port 0xCF8, the data through port 0xCFC. Bus 0 only.
 */
#include <asm/processor.h>
#include <linux/pci.h>

#define PCI_CONF1_ADDRESS(devfn, reg) (0x80000000u | ((devfn) << 8) | ((reg) & 0xfcu))

uint32_t pci_read_config_dword(const struct pci_dev *dev, unsigned int reg)
{
	outl(PCI_CONF1_ADDRESS(dev->devfn, reg), 0xcf8);
	return inl(0xcfc);
}

void pci_write_config_dword(const struct pci_dev *dev, unsigned int reg, uint32_t val)
{
	outl(PCI_CONF1_ADDRESS(dev->devfn, reg), 0xcf8);
	outl(val, 0xcfc);
}

bool pci_get_class(unsigned int class16, struct pci_dev *dev)
{
	for (unsigned int devfn = 0; devfn < 256; devfn++) {
		struct pci_dev d = { .devfn = devfn };
		uint32_t id = pci_read_config_dword(&d, PCI_VENDOR_ID);
		if ((id & 0xffff) == 0xffff) {
			if ((devfn & 7) == 0)
				devfn += 7; /* no function 0: no device */
			continue;
		}
		d.vendor = (uint16_t)id;
		d.device = (uint16_t)(id >> 16);
		d.class = pci_read_config_dword(&d, PCI_CLASS_REVISION) >> 8;
		if ((d.class >> 8) == class16) {
			*dev = d;
			return true;
		}
	}
	return false;
}

bool pci_resource(const struct pci_dev *dev, unsigned int bar, uint64_t *start, uint64_t *size)
{
	unsigned int reg = PCI_BASE_ADDRESS_0 + 4 * bar;
	if (bar > 5)
		return false;
	uint32_t lo = pci_read_config_dword(dev, reg), cmd = pci_read_config_dword(dev, PCI_COMMAND);
	bool is64 = (lo & 0x7) == 0x4;
	if ((lo & 1) || (is64 && bar == 5))
		return false;
	uint32_t hi = is64 ? pci_read_config_dword(dev, reg + 4) : 0;
	pci_write_config_dword(dev, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY); /* no decoding while sizing */
	pci_write_config_dword(dev, reg, 0xffffffffu);
	uint64_t mask = pci_read_config_dword(dev, reg) & ~0xfu;
	pci_write_config_dword(dev, reg, lo);
	if (is64) {
		pci_write_config_dword(dev, reg + 4, 0xffffffffu);
		mask |= (uint64_t)pci_read_config_dword(dev, reg + 4) << 32;
		pci_write_config_dword(dev, reg + 4, hi);
	} else {
		mask |= 0xffffffff00000000ULL;
	}
	pci_write_config_dword(dev, PCI_COMMAND, cmd);
	*start = ((uint64_t)hi << 32 | lo) & ~0xfULL;
	*size = ~mask + 1;
	return *start != 0 && *size != 0;
}
