#include "core/util/FreePort.h"

#include "core/util/Error.h"

#include <cerrno>
#include <cstring>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tkd {

int freeLoopbackPort()
{
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s < 0 || ::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0
        || ::getsockname(s, reinterpret_cast<sockaddr *>(&a), &len) != 0) {
        const std::string why = std::strerror(errno);
        if (s >= 0)
            ::close(s);
        throw Error("127.0.0.1", "no free TCP port: " + why);
    }
    ::close(s);
    return ntohs(a.sin_port);
}

} // namespace tkd
