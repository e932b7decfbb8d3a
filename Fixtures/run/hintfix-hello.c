/* The program hintfix's exec-loader variants exec: built dynamically (its loader opens libc after the exec)
 * and statically (nothing to load: the documented fix). */
#include <unistd.h>

int main(void) {
    static const char text[] = "result: hello after exec\n";
    return write(1, text, sizeof text - 1) == (ssize_t)(sizeof text - 1) ? 0 : 1;
}
