// Fixture: C++ frames with namespaces, a class, a template and an overload, blocked in read() on a pipe.
#include <cstdio>
#include <unistd.h>

namespace shapes {
template <typename T> struct Box {
    __attribute__((noinline)) long wait(int fd, T tag);
};

template <typename T> long Box<T>::wait(int fd, T tag) {
    char c;
    volatile long r = read(fd, &c, 1) + static_cast<long>(tag) * 0;
    return r;
}

__attribute__((noinline)) long drive(int fd, double scale) {
    Box<int> box;
    volatile long r = box.wait(fd, static_cast<int>(scale));
    return r;
}
}  // namespace shapes

int main() {
    int p[2];
    if (pipe(p) != 0) return 1;
    std::printf("ready\n");
    std::fflush(stdout);
    return shapes::drive(p[0], 2.0) == 0 ? 0 : 2;
}
