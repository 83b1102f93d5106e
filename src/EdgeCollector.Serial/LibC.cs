using System.Runtime.InteropServices;

namespace EdgeCollector.Serial;

/// <summary>
/// P/Invoke surface of glibc/musl used by <see cref="LinuxSerialPort"/>. Constants are the Linux
/// generic values (asm-generic/termbits.h, fcntl.h), identical on x86-64 and arm64.
/// </summary>
internal static unsafe partial class LibC
{
    private const string Lib = "libc";

    // fcntl.h
    public const int O_RDWR = 0x2;
    public const int O_NOCTTY = 0x100;     // 0400: never become the controlling terminal
    public const int O_NONBLOCK = 0x800;   // 04000: reads return EAGAIN instead of blocking
    public const int O_CLOEXEC = 0x80000;  // 02000000

    // sys/file.h
    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;

    // errno.h
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int ENODEV = 19;
    public const int ENOTTY = 25;

    // termios c_iflag
    public const uint IGNBRK = 0x1;
    public const uint BRKINT = 0x2;
    public const uint IGNPAR = 0x4;
    public const uint PARMRK = 0x8;
    public const uint INPCK = 0x10;
    public const uint ISTRIP = 0x20;
    public const uint INLCR = 0x40;
    public const uint IGNCR = 0x80;
    public const uint ICRNL = 0x100;
    public const uint IXON = 0x400;
    public const uint IXANY = 0x800;
    public const uint IXOFF = 0x1000;

    // termios c_oflag
    public const uint OPOST = 0x1;

    // termios c_cflag
    public const uint CSIZE = 0x30;
    public const uint CS7 = 0x20;
    public const uint CS8 = 0x30;
    public const uint CSTOPB = 0x40;
    public const uint CREAD = 0x80;
    public const uint PARENB = 0x100;
    public const uint PARODD = 0x200;
    public const uint CLOCAL = 0x800;
    public const uint CRTSCTS = 0x80000000;

    // termios c_lflag
    public const uint ISIG = 0x1;
    public const uint ICANON = 0x2;
    public const uint ECHO = 0x8;
    public const uint ECHONL = 0x40;
    public const uint IEXTEN = 0x8000;

    // c_cc indexes
    public const int VTIME = 5;
    public const int VMIN = 6;

    // tcsetattr / tcflush
    public const int TCSANOW = 0;
    public const int TCIFLUSH = 0;
    public const int TCIOFLUSH = 2;

    // poll.h
    public const short POLLIN = 0x1;
    public const short POLLOUT = 0x4;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;
    public const short POLLNVAL = 0x20;

    /// <summary>
    /// struct termios of glibc on linux-x64/arm64: four tcflag_t (uint), cc_t c_line, cc_t c_cc[NCCS=32],
    /// 3 bytes of padding, speed_t c_ispeed, speed_t c_ospeed — 60 bytes. Sequential layout reproduces the padding.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Termios
    {
        public uint c_iflag;
        public uint c_oflag;
        public uint c_cflag;
        public uint c_lflag;
        public byte c_line;
        public fixed byte c_cc[32];
        public uint c_ispeed;
        public uint c_ospeed;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int fd;
        public short events;
        public short revents;
    }

    /// <summary>Maps a baud rate to its Bnnn speed_t constant (termbits.h).</summary>
    public static uint BaudConstant(int baud) => baud switch
    {
        1200 => 0x9,      // B1200   0000011
        2400 => 0xB,      // B2400   0000013
        4800 => 0xC,      // B4800   0000014
        9600 => 0xD,      // B9600   0000015
        19200 => 0xE,     // B19200  0000016
        38400 => 0xF,     // B38400  0000017
        57600 => 0x1001,  // B57600  0010001
        115200 => 0x1002, // B115200 0010002
        _ => throw new ArgumentOutOfRangeException(nameof(baud), baud, "Unsupported baud rate."),
    };

    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(SafeFdHandle fd, byte* buf, nint count);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(SafeFdHandle fd, byte* buf, nint count);

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint nfds, int timeoutMs);

    [LibraryImport(Lib, EntryPoint = "tcgetattr", SetLastError = true)]
    public static partial int TcGetAttr(SafeFdHandle fd, Termios* termios);

    [LibraryImport(Lib, EntryPoint = "tcsetattr", SetLastError = true)]
    public static partial int TcSetAttr(SafeFdHandle fd, int optionalActions, Termios* termios);

    [LibraryImport(Lib, EntryPoint = "cfsetispeed", SetLastError = true)]
    public static partial int CfSetISpeed(Termios* termios, uint speed);

    [LibraryImport(Lib, EntryPoint = "cfsetospeed", SetLastError = true)]
    public static partial int CfSetOSpeed(Termios* termios, uint speed);

    [LibraryImport(Lib, EntryPoint = "tcflush", SetLastError = true)]
    public static partial int TcFlush(SafeFdHandle fd, int queueSelector);

    [LibraryImport(Lib, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(SafeFdHandle fd, int operation);
}

/// <summary>A file descriptor closed exactly once, after every in-flight system call has released it.</summary>
internal sealed class SafeFdHandle : SafeHandle
{
    public SafeFdHandle(int fd)
        : base(new IntPtr(-1), ownsHandle: true) => SetHandle(new IntPtr(fd));

    public override bool IsInvalid => handle.ToInt64() < 0;

    public int Fd => (int)handle.ToInt64();

    protected override bool ReleaseHandle() => LibC.Close((int)handle.ToInt64()) == 0;
}
