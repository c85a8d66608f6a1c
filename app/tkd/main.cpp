// tkd: the headless command line of TKD Studio. Each command lives in its own *Commands.cpp and
// registers itself (Cli.h); parsing, dispatch and error messages are in Cli.cpp.
#include "Cli.h"

int main(int argc, char **argv)
{
    return tkd::cli::run(argc, argv);
}
