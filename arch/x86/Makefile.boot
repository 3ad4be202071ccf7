# Kernel and boot image build rules (filled in by the boot-chain work).
