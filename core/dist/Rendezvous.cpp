#include "core/dist/Rendezvous.h"

#include "core/util/Error.h"

#include <cstdlib>

namespace tkd {

namespace {

int parseInt(const Rendezvous::Lookup &env, const char *name, int lo, int hi)
{
    const std::string text = env(name);
    size_t used = 0;
    long v = 0;
    try {
        v = std::stol(text, &used);
    } catch (const std::exception &) {
        used = 0;
    }
    if (used == 0 || used != text.size())
        throw Error(name, "'" + text + "' is not a whole number");
    if (v < lo || v > hi)
        throw Error(name, text + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    return int(v);
}

bool has(const Rendezvous::Lookup &env, const char *name)
{
    const char *v = env(name);
    return v && *v;
}

} // namespace

std::string Rendezvous::firstSlurmHost(const std::string &list, const std::string &variable)
{
    // The first entry ends at the first comma outside brackets.
    std::string first;
    int depth = 0;
    for (char ch : list) {
        if (ch == ',' && depth == 0)
            break;
        depth += ch == '[' ? 1 : ch == ']' ? -1 : 0;
        if (depth < 0)
            throw Error(variable, "'" + list + "' has an unmatched ']'");
        first += ch;
    }
    if (depth != 0)
        throw Error(variable, "'" + list + "' has an unmatched '['");
    const auto open = first.find('[');
    if (open == std::string::npos) {
        if (first.empty())
            throw Error(variable, "is empty");
        return first;
    }
    const auto close = first.find(']', open);
    // node[01-04,07]-ib: prefix, the range's first number (zero padding kept), suffix.
    std::string range = first.substr(open + 1, close - open - 1);
    range = range.substr(0, range.find_first_of(",-"));
    if (range.empty() || range.find_first_not_of("0123456789") != std::string::npos)
        throw Error(variable, "'" + list + "' is not a Slurm node list (e.g. node[01-04],gpu7)");
    return first.substr(0, open) + range + first.substr(close + 1);
}

Rendezvous Rendezvous::fromEnvironment(const Lookup &lookup)
{
    const Lookup env = lookup ? lookup : [](const char *n) { return std::getenv(n); };
    Rendezvous r;
    if (has(env, "WORLD_SIZE")) {
        r.source = "env";
        r.worldSize = parseInt(env, "WORLD_SIZE", 1, 1 << 20);
        if (r.worldSize == 1)
            return r;
        for (const char *need : { "RANK", "MASTER_ADDR", "MASTER_PORT" })
            if (!has(env, need))
                throw Error(need,
                    "is not set; WORLD_SIZE=" + std::to_string(r.worldSize)
                        + " needs RANK, MASTER_ADDR and MASTER_PORT (as torchrun sets them)");
        r.rank = parseInt(env, "RANK", 0, r.worldSize - 1);
        r.localRank = has(env, "LOCAL_RANK") ? parseInt(env, "LOCAL_RANK", 0, r.worldSize - 1) : 0;
        r.masterAddr = env("MASTER_ADDR");
        r.masterPort = parseInt(env, "MASTER_PORT", 1, 65535);
        return r;
    }
    if (!has(env, "SLURM_STEP_ID") || !has(env, "SLURM_NTASKS"))
        return r;
    r.source = "slurm";
    r.worldSize = parseInt(env, "SLURM_NTASKS", 1, 1 << 20);
    if (r.worldSize == 1)
        return r;
    r.rank = parseInt(env, "SLURM_PROCID", 0, r.worldSize - 1);
    r.localRank
        = has(env, "SLURM_LOCALID") ? parseInt(env, "SLURM_LOCALID", 0, r.worldSize - 1) : 0;
    if (has(env, "MASTER_ADDR")) {
        r.masterAddr = env("MASTER_ADDR");
    } else {
        const char *listVar = nullptr;
        for (const char *v : { "SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NODELIST" })
            if (!listVar && has(env, v))
                listVar = v;
        if (!listVar)
            throw Error("SLURM_JOB_NODELIST", "is not set; set MASTER_ADDR to rank 0's host");
        r.masterAddr = firstSlurmHost(env(listVar), listVar);
    }
    if (has(env, "MASTER_PORT"))
        r.masterPort = parseInt(env, "MASTER_PORT", 1, 65535);
    else if (has(env, "SLURM_JOB_ID"))
        r.masterPort = 20000 + parseInt(env, "SLURM_JOB_ID", 0, 2147483647) % 10000;
    return r;
}

} // namespace tkd
