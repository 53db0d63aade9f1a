// See netns.h for why namespaced work runs on its own short-lived thread.
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/sockios.h>
#include <unistd.h>

#include <system_error>
#include <thread>

namespace hopscope {

namespace {

bool StartsWith(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string ErrnoText(int err) {
  char buf[256];
  // GNU strerror_r returns the message (possibly not in buf).
  return std::string(strerror_r(err, buf, sizeof buf));
}

// Runs `work` on a new thread that entered namespace `nsfd` first, and joins it.
// False when no thread could be started (*threadError says why); *setnsErrno is
// setns's errno (0: entered).
bool RunOnThreadIn(int nsfd, const std::function<void()>& work, int* setnsErrno,
                   std::string* threadError) {
  *setnsErrno = 0;
  try {
    std::thread worker([&] {
      // Block every signal on this thread so that a process-directed signal is
      // never handled here while the thread sits in a foreign namespace.
      sigset_t all;
      sigfillset(&all);
      pthread_sigmask(SIG_BLOCK, &all, nullptr);
      if (setns(nsfd, CLONE_NEWNET) != 0) {
        *setnsErrno = errno;
        return;
      }
      work();
      // No way back needed: the thread ends here, and its namespace with it.
    });
    worker.join();
  } catch (const std::system_error& e) {
    *threadError = e.what();
    return false;
  }
  return true;
}

}  // namespace

std::string NetnsLabel(const std::string& path) {
  for (const char* dir : {"/var/run/netns/", "/run/netns/"}) {
    if (StartsWith(path, dir) && path.size() > strlen(dir)) return path.substr(strlen(dir));
  }
  static const char kProc[] = "/proc/";
  static const char kNsNet[] = "/ns/net";
  const size_t procLen = sizeof kProc - 1;
  const size_t nsLen = sizeof kNsNet - 1;
  if (StartsWith(path, kProc) && path.size() > procLen + nsLen &&
      path.compare(path.size() - nsLen, nsLen, kNsNet) == 0) {
    std::string pid = path.substr(procLen, path.size() - procLen - nsLen);
    if (!pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos) return "pid:" + pid;
  }
  return path;
}

bool RunInNetns(const std::string& path, const std::function<void()>& work,
                NetnsFailure* failure, uint64_t* inode) {
  if (inode != nullptr) *inode = 0;
  if (path.empty()) {
    work();
    return true;
  }
  const std::string label = NetnsLabel(path);
  const std::string shown = label == path ? path : label + " (" + path + ")";

  // Opened on the caller's thread so that "not found" is reported before any
  // thread exists.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      failure->code = "ERR_NETNS_NOT_FOUND";
      failure->message = "network namespace not found: " + shown;
    } else if (err == EACCES || err == EPERM) {
      failure->code = "ERR_PERMISSION";
      failure->message = "cannot open network namespace " + shown + ": " + ErrnoText(err) +
                         " (needs root)";
    } else {
      failure->code = "ERR_NETNS";
      failure->message = "cannot open network namespace " + shown + ": " + ErrnoText(err);
    }
    return false;
  }
  // The same fd is entered below, so this is the namespace the work runs in
  // (stat of the path could already name a newer one).
  struct stat st;
  if (inode != nullptr && fstat(fd, &st) == 0) *inode = static_cast<uint64_t>(st.st_ino);

  int setnsErrno = 0;
  std::string threadError;
  if (!RunOnThreadIn(fd, work, &setnsErrno, &threadError)) {
    close(fd);
    failure->code = "ERR_NETNS";
    failure->message = "cannot start a thread to enter network namespace " + shown + ": " + threadError;
    return false;
  }
  close(fd);

  if (setnsErrno != 0) {
    if (setnsErrno == EINVAL) {
      failure->code = "ERR_NETNS";
      failure->message = "not a network namespace: " + shown;
    } else if (setnsErrno == EPERM) {
      failure->code = "ERR_PERMISSION";
      failure->message = "cannot enter network namespace " + shown +
                         ": Operation not permitted (needs root / CAP_SYS_ADMIN)";
    } else {
      failure->code = "ERR_NETNS";
      failure->message = "cannot enter network namespace " + shown + ": " + ErrnoText(setnsErrno);
    }
    return false;
  }
  return true;
}

bool RunInNetnsOfSocket(int socketFd, const std::function<void()>& work) {
  // SIOCGSKNS (Linux 4.9): a file descriptor of the namespace the socket lives in.
  int nsfd = ioctl(socketFd, SIOCGSKNS);
  if (nsfd < 0) return false;
  int setnsErrno = 0;
  std::string threadError;
  bool ran = RunOnThreadIn(nsfd, work, &setnsErrno, &threadError) && setnsErrno == 0;
  close(nsfd);
  return ran;
}

}  // namespace hopscope
