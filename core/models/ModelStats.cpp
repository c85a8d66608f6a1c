#include "core/models/ModelStats.h"

namespace tkd {

int64_t ModelStats::convOutLength(
    int64_t in, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation)
{
    const int64_t span = dilation * (kernel - 1) + 1;
    const int64_t padded = in + 2 * padding;
    if (padded < span)
        return 0;
    return (padded - span) / stride + 1;
}

int64_t ModelStats::convMacs(
    int64_t outPositions, int64_t inChannels, int64_t outChannels, int64_t kernelElements)
{
    return outPositions * outChannels * inChannels * kernelElements;
}

int64_t ModelStats::linearMacs(int64_t rows, int64_t in, int64_t out)
{
    return rows * in * out;
}

int64_t ModelStats::lstmMacs(
    int64_t steps, int64_t in, int64_t hidden, int64_t projection, bool peepholes)
{
    const int64_t recurrent = projection > 0 ? projection : hidden;
    int64_t perStep = 4 * hidden * (in + recurrent);
    if (projection > 0)
        perStep += hidden * projection;
    if (peepholes)
        perStep += 3 * hidden;
    return steps * perStep;
}

int64_t ModelStats::gruMacs(int64_t steps, int64_t in, int64_t hidden)
{
    return steps * 3 * hidden * (in + hidden);
}

int64_t ModelStats::attentionMacs(int64_t steps, int64_t dim, int64_t heads)
{
    return 2 * heads * steps * dim;
}

int64_t ModelStats::parameterCount(const torch::nn::Module &module)
{
    int64_t count = 0;
    for (const auto &p : module.parameters(/*recurse=*/true))
        count += p.numel();
    return count;
}

} // namespace tkd
