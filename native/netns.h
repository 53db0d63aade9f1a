// Running a piece of code inside another network namespace (DESIGN §4 "sources").
//
// Why a short-lived dedicated thread, not setns(2) on the main thread and back:
// setns(CLONE_NEWNET) changes the namespace of the *calling thread* only. If the
// main thread entered a namespace and the way back failed (or an exception
// skipped it), Node's main thread would stay there — and every socket it opens
// and every child process libuv forks from it would silently live in the wrong
// namespace. A thread that enters the namespace, runs the open, and exits cannot
// leak that state: there is nothing to restore. The caller joins it at once, so
// the API stays synchronous; the cost is one thread creation per open (tens of
// microseconds next to pcap_activate's ring set-up).
//
// What the work may touch: sockets created on that thread (the pcap packet
// socket, the ioctl sockets of pcap_findalldevs/pcap_lookupnet, netlink for
// getifaddrs) belong to the target namespace for their whole life, so the handle
// can be read from the main thread afterwards. Files under /sys/class/net do NOT
// follow the thread: sysfs shows the namespace of whoever mounted it (the root
// namespace here). See capture_handle.h for what that means for ps_ifdrop.
//
// The work function runs on the other thread: it must not call N-API.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace hopscope {

// The namespace as messages name it, like the user wrote it: "/var/run/netns/x"
// and "/run/netns/x" → "x", "/proc/123/ns/net" → "pid:123", anything else as is.
std::string NetnsLabel(const std::string& path);

struct NetnsFailure {
  std::string code;     // ERR_NETNS_NOT_FOUND, ERR_PERMISSION, ERR_NETNS
  std::string message;  // names the namespace
};

// Runs `work` with the current thread's network namespace set to `path`
// (empty path: the caller's namespace, `work` runs inline on the caller's
// thread). Returns false, without running `work`, if the namespace cannot be
// opened or entered. `inode`, if given, receives the inode number of the
// namespace entered (0 for the caller's own): what identifies *this* namespace
// once the name is deleted, or deleted and re-created for another one.
bool RunInNetns(const std::string& path, const std::function<void()>& work,
                NetnsFailure* failure, uint64_t* inode = nullptr);

// Runs `work` in the network namespace socket `socketFd` lives in (a capture's packet
// socket: its namespace, even once its name leads elsewhere or nowhere). False,
// without running `work`, when the namespace cannot be had or entered.
bool RunInNetnsOfSocket(int socketFd, const std::function<void()>& work);

}  // namespace hopscope
