/*
 * bootparam.h: the Linux x86 boot protocol as ptlab implements it.
 *
 * The setup header (offset 0x1F1 of the bzImage and of boot_params) and the
 * "zero page" (struct boot_params) that a boot loader or ptlab's own real-mode
 * setup fills in. Offsets follow Documentation/arch/x86/boot.rst; the
 * _Static_asserts below pin every field the boot chain reads.
 * Used by: arch/x86/boot (16-bit), the decompressor, the kernel, the host bzImage builder.
 */
#ifndef ASM_BOOTPARAM_H
#define ASM_BOOTPARAM_H

#include <stdint.h>

#define BOOT_FLAG_MAGIC       0xAA55
#define SETUP_HDR_MAGIC       0x53726448u /* "HdrS" */
#define BOOT_PROTOCOL_VERSION 0x020F      /* 2.15 */

/* loadflags */
#define LOADED_HIGH   (1u << 0)
#define KASLR_FLAG    (1u << 1)
#define QUIET_FLAG    (1u << 5)
#define CAN_USE_HEAP  (1u << 7)

#define E820_MAX_ENTRIES_ZEROPAGE 128
#define E820_TYPE_RAM      1
#define E820_TYPE_RESERVED 2
#define E820_TYPE_ACPI     3
#define E820_TYPE_NVS      4
#define E820_TYPE_UNUSABLE 5

#define COMMAND_LINE_SIZE 2048

struct __attribute__((packed)) setup_header {
	uint8_t  setup_sects;          /* 0x1F1 */
	uint16_t root_flags;
	uint32_t syssize;              /* 0x1F4: protected-mode part in 16-byte units */
	uint16_t ram_size;
	uint16_t vid_mode;             /* 0x1FA */
	uint16_t root_dev;
	uint16_t boot_flag;            /* 0x1FE: 0xAA55 */
	uint16_t jump;                 /* 0x200 */
	uint32_t header;               /* 0x202: "HdrS" */
	uint16_t version;              /* 0x206 */
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t  type_of_loader;       /* 0x210 */
	uint8_t  loadflags;            /* 0x211 */
	uint16_t setup_move_size;
	uint32_t code32_start;         /* 0x214 */
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;         /* 0x224 */
	uint8_t  ext_loader_ver;
	uint8_t  ext_loader_type;
	uint32_t cmd_line_ptr;         /* 0x228 */
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;     /* 0x230 */
	uint8_t  relocatable_kernel;   /* 0x234 */
	uint8_t  min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;         /* 0x238 */
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;         /* 0x258 */
	uint32_t init_size;            /* 0x260 */
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
};

struct __attribute__((packed)) boot_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* The zero page: 4 KiB. Only the fields ptlab uses are named. */
struct __attribute__((packed)) boot_params {
	uint8_t  _pad0[0x070];
	uint64_t acpi_rsdp_addr;                 /* 0x070 */
	uint8_t  _pad1[0x0C8 - 0x078];
	uint32_t ext_cmd_line_ptr;               /* 0x0C8 */
	uint8_t  _pad2[0x1E4 - 0x0CC];
	uint32_t scratch;                        /* 0x1E4: startup_32's 4-byte stack */
	uint8_t  e820_entries;                   /* 0x1E8 */
	uint8_t  _pad3[0x1F1 - 0x1E9];
	struct setup_header hdr;                 /* 0x1F1 */
	uint8_t  _pad4[0x2D0 - 0x1F1 - sizeof(struct setup_header)];
	struct boot_e820_entry e820_table[E820_MAX_ENTRIES_ZEROPAGE]; /* 0x2D0 */
	uint8_t  _pad5[0x1000 - 0x2D0 - E820_MAX_ENTRIES_ZEROPAGE * 20];
};

_Static_assert(sizeof(struct setup_header) == 0x26C - 0x1F1, "setup_header size");
_Static_assert(__builtin_offsetof(struct boot_params, scratch) == 0x1E4, "scratch");
_Static_assert(__builtin_offsetof(struct boot_params, e820_entries) == 0x1E8, "e820_entries");
_Static_assert(__builtin_offsetof(struct boot_params, hdr) == 0x1F1, "hdr");
_Static_assert(__builtin_offsetof(struct boot_params, hdr.code32_start) == 0x214, "code32_start");
_Static_assert(__builtin_offsetof(struct boot_params, hdr.cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(__builtin_offsetof(struct boot_params, hdr.pref_address) == 0x258, "pref_address");
_Static_assert(__builtin_offsetof(struct boot_params, hdr.init_size) == 0x260, "init_size");
_Static_assert(__builtin_offsetof(struct boot_params, e820_table) == 0x2D0, "e820_table");
_Static_assert(sizeof(struct boot_params) == 4096, "boot_params size");

/* The name Linux's boot log gives an E820 type. */
static inline const char *e820_type_name(uint32_t type)
{
	switch (type) {
	case E820_TYPE_RAM: return "usable";
	case E820_TYPE_RESERVED: return "reserved";
	case E820_TYPE_ACPI: return "ACPI data";
	case E820_TYPE_NVS: return "ACPI NVS";
	case E820_TYPE_UNUSABLE: return "unusable";
	default: return "other";
	}
}

/* Physical address of the command line (64-bit with ext_cmd_line_ptr). */
static inline uint64_t boot_cmdline_pa(const struct boot_params *bp)
{
	return bp->hdr.cmd_line_ptr | ((uint64_t)bp->ext_cmd_line_ptr << 32);
}

#endif /* ASM_BOOTPARAM_H */
