#include "widgets/ClipTableModel.h"

namespace tkd {

ClipTableModel::ClipTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{ }

void ClipTableModel::setClips(QVector<ClipRow> clips)
{
    beginResetModel();
    m_clips = std::move(clips);
    endResetModel();
}

const ClipRow *ClipTableModel::clipAt(int row) const
{
    return row >= 0 && row < m_clips.size() ? &m_clips[row] : nullptr;
}

int ClipTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_clips.size());
}

int ClipTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

static QString confidenceText(double c)
{
    return c < 0 ? QString() : QString::number(c * 100.0, 'f', 1) + QLatin1String(" %");
}

QVariant ClipTableModel::data(const QModelIndex &index, int role) const
{
    const ClipRow *c = clipAt(index.row());
    if (!c)
        return {};
    const bool evaluated = !c->prediction.isEmpty();
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Split:
            return c->split;
        case Label:
            return c->label;
        case Word:
            return c->word;
        case Speaker:
            return c->speaker;
        case Duration:
            return QString::number(c->durationSec, 'f', 2) + QLatin1String(" s");
        case Window:
            return c->onsetSec < 0 ? QStringLiteral("-")
                                   : QStringLiteral("%1-%2 s")
                                         .arg(c->onsetSec, 0, 'f', 2)
                                         .arg(c->offsetSec, 0, 'f', 2);
        case Prediction:
            return c->prediction;
        case Correct:
            return evaluated
                ? (c->prediction == c->label ? QStringLiteral("yes") : QStringLiteral("no"))
                : QString();
        case TeacherConf:
            return confidenceText(c->teacherConfidence);
        case StudentConf:
            return confidenceText(c->studentConfidence);
        }
    } else if (role == SortRole) {
        switch (index.column()) {
        case Duration:
            return c->durationSec;
        case Window:
            return c->onsetSec;
        case TeacherConf:
            return c->teacherConfidence;
        case StudentConf:
            return c->studentConfidence;
        case Correct:
            return evaluated ? int(c->prediction == c->label) : -1;
        default:
            return data(index, Qt::DisplayRole);
        }
    } else if (role == Qt::ToolTipRole) {
        return c->path;
    } else if (role == Qt::TextAlignmentRole) {
        if (index.column() == Duration || index.column() == TeacherConf
            || index.column() == StudentConf)
            return int(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

QVariant ClipTableModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *names[ColumnCount] = { "Split", "Class", "Word", "Speaker", "Length",
        "Keyword window", "Prediction", "Correct", "Teacher conf.", "Student conf." };
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

ClipFilterModel::ClipFilterModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(ClipTableModel::SortRole);
}

void ClipFilterModel::setSplit(const QString &split)
{
    m_split = split;
    invalidateFilter();
}

void ClipFilterModel::setLabel(const QString &label)
{
    m_label = label;
    invalidateFilter();
}

void ClipFilterModel::setText(const QString &text)
{
    m_text = text.trimmed();
    invalidateFilter();
}

void ClipFilterModel::setOnlyWrong(bool onlyWrong)
{
    m_onlyWrong = onlyWrong;
    invalidateFilter();
}

bool ClipFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &) const
{
    const auto *model = qobject_cast<const ClipTableModel *>(sourceModel());
    const ClipRow *c = model ? model->clipAt(sourceRow) : nullptr;
    if (!c)
        return false;
    if (!m_split.isEmpty() && c->split != m_split)
        return false;
    if (!m_label.isEmpty() && c->label != m_label)
        return false;
    if (m_onlyWrong && (c->prediction.isEmpty() || c->prediction == c->label))
        return false;
    if (!m_text.isEmpty() && !c->path.contains(m_text, Qt::CaseInsensitive)
        && !c->word.contains(m_text, Qt::CaseInsensitive)
        && !c->speaker.contains(m_text, Qt::CaseInsensitive))
        return false;
    return true;
}

} // namespace tkd
