// The Experiment view's form fields, generated from core's config schema: sections, labels,
// editors and ranges (ExperimentPanel shows them; ExperimentForm draws them).
#include "ExperimentFields.h"

#include "core/experiment/ExperimentConfig.h"
#include "core/models/StudentRegistry.h"

#include <QCoreApplication>
#include <QMap>

#include <algorithm>

namespace tkd {

namespace {

QString sectionOf(const QString &key)
{
    if (!key.contains(QLatin1Char('.')))
        return key == QLatin1String("students")
            ? QCoreApplication::translate("ExperimentPanel", "Students")
            : QCoreApplication::translate("ExperimentPanel", "Experiment");
    if (key.startsWith(QLatin1String("data.corpus.")))
        return QCoreApplication::translate("ExperimentPanel", "Built-in corpus");
    if (key.startsWith(QLatin1String("data.noisy.")))
        return QCoreApplication::translate("ExperimentPanel", "Noisy clips");
    if (key.startsWith(QLatin1String("data.")))
        return QCoreApplication::translate("ExperimentPanel", "Dataset");
    if (key.startsWith(QLatin1String("features.")))
        return QCoreApplication::translate("ExperimentPanel", "Student features");
    if (key.startsWith(QLatin1String("teacher.rollout.")))
        return QCoreApplication::translate("ExperimentPanel", "Teacher attention rollout");
    if (key.startsWith(QLatin1String("teacher.")))
        return QCoreApplication::translate("ExperimentPanel", "Teacher");
    if (key.startsWith(QLatin1String("kd.logit_kd.")))
        return QCoreApplication::translate("ExperimentPanel", "Logit KD (baseline)");
    if (key.startsWith(QLatin1String("kd.")))
        return QCoreApplication::translate("ExperimentPanel", "Temporal KD");
    if (key.startsWith(QLatin1String("grid.")))
        return QCoreApplication::translate("ExperimentPanel", "Grid");
    if (key.startsWith(QLatin1String("train.")))
        return QCoreApplication::translate("ExperimentPanel", "Training");
    return QCoreApplication::translate("ExperimentPanel", "Output");
}

QString labelOf(const QString &key)
{
    static const QMap<QString, QString> labels = {
        { QStringLiteral("name"), QStringLiteral("Name") },
        { QStringLiteral("seed"), QStringLiteral("Teacher seed") },
        { QStringLiteral("data.source"), QStringLiteral("Source") },
        { QStringLiteral("data.path"), QStringLiteral("Folder") },
        { QStringLiteral("data.task"), QStringLiteral("Labels") },
        { QStringLiteral("data.noisy.length_sec"), QStringLiteral("Clip length L (s)") },
        { QStringLiteral("data.noisy.snr_db"), QStringLiteral("SNR range (dB)") },
        { QStringLiteral("data.noisy.noise"), QStringLiteral("Noise kinds") },
        { QStringLiteral("data.noisy.noise_dir"), QStringLiteral("Noise folder") },
        { QStringLiteral("data.noisy.babble_gain_db"), QStringLiteral("Babble gain (dB)") },
        { QStringLiteral("teacher.kind"), QStringLiteral("Kind") },
        { QStringLiteral("teacher.weights"), QStringLiteral("Weights") },
        { QStringLiteral("teacher.lr"), QStringLiteral("Learning rate") },
        { QStringLiteral("teacher.fresh_noise_each_epoch"),
            QStringLiteral("Fresh noise each epoch") },
        { QStringLiteral("students"), QStringLiteral("Train") },
        { QStringLiteral("kd.lambdas"), QStringLiteral("\u03bb values") },
        { QStringLiteral("kd.target"), QStringLiteral("Student attention") },
        { QStringLiteral("grid.lengths_sec"), QStringLiteral("Lengths L (s)") },
        { QStringLiteral("grid.seeds"), QStringLiteral("Student seeds") },
        { QStringLiteral("train.lr"), QStringLiteral("Learning rate") },
        { QStringLiteral("train.num_threads"), QStringLiteral("CPU threads") },
        { QStringLiteral("train.early_stopping_patience"), QStringLiteral("Early-stop patience") },
        { QStringLiteral("train.early_stopping_min_epochs"),
            QStringLiteral("Early stop from epoch") },
        { QStringLiteral("train.grad_clip_norm"), QStringLiteral("Gradient clip norm") },
        { QStringLiteral("output.runs_dir"), QStringLiteral("Runs folder") },
        { QStringLiteral("features.mfcc_count"), QStringLiteral("MFCC count") },
        { QStringLiteral("features.n_mels"), QStringLiteral("Mel bands") },
    };
    auto it = labels.constFind(key);
    if (it != labels.cend())
        return *it;
    QString last = key.section(QLatin1Char('.'), -1);
    last.replace(QLatin1Char('_'), QLatin1Char(' '));
    last.replace(QStringLiteral(" ms"), QStringLiteral(" (ms)"));
    last.replace(QStringLiteral(" hz"), QStringLiteral(" (Hz)"));
    last.replace(QStringLiteral(" db"), QStringLiteral(" (dB)"));
    last.replace(QStringLiteral(" sec"), QStringLiteral(" (s)"));
    if (!last.isEmpty())
        last[0] = last[0].toUpper();
    return last;
}

QString number(double v)
{
    return QString::number(v, 'g', 12);
}

} // namespace

QVector<FormField> experimentFormFields()
{
    QVector<FormField> out;
    QStringList students;
    for (const std::string &s : StudentRegistry::names())
        students << QString::fromStdString(s);
    for (const ConfigKeySpec &spec : ExperimentConfig::schema()) {
        FormField f;
        f.key = QString::fromStdString(spec.key);
        f.section = sectionOf(f.key);
        f.label = labelOf(f.key);
        f.help = QString::fromStdString(spec.help);
        for (const std::string &c : spec.choices)
            f.choices << QString::fromStdString(c);
        using T = ConfigKeySpec::Type;
        switch (spec.type) {
        case T::String:
            f.kind = FormField::Kind::Text;
            if (f.key == QLatin1String("data.path")
                || f.key == QLatin1String("data.noisy.noise_dir")
                || f.key == QLatin1String("output.runs_dir"))
                f.kind = FormField::Kind::Folder;
            if (f.key == QLatin1String("teacher.weights")) {
                f.kind = FormField::Kind::File;
                f.fileFilter = QCoreApplication::translate(
                    "ExperimentPanel", "Weights (*.safetensors *.bin *.pt);;All files (*)");
            }
            break;
        case T::Choice:
            f.kind = FormField::Kind::Choice;
            break;
        case T::Int:
        case T::Seed:
            f.kind = FormField::Kind::Integer;
            break;
        case T::Double:
            f.kind = FormField::Kind::Number;
            break;
        case T::Bool:
            f.kind = FormField::Kind::Bool;
            break;
        case T::ChoiceList:
            f.kind = FormField::Kind::ChoiceList;
            break;
        case T::StringList:
            f.kind = f.key == QLatin1String("students") ? FormField::Kind::ChoiceList
                                                        : FormField::Kind::List;
            if (f.key == QLatin1String("students"))
                f.choices = students;
            break;
        default:
            f.kind = FormField::Kind::List;
            break;
        }
        if (f.key == QLatin1String("data.task")) {
            f.kind = FormField::Kind::Choice;
            f.choices = { QStringLiteral("12"), QStringLiteral("35") };
        }
        if (spec.hasRange) {
            if (spec.maxValue >= 9.0e15)
                f.rangeText = QStringLiteral(">= %1").arg(number(spec.minValue));
            else
                f.rangeText
                    = QStringLiteral("%1 ... %2").arg(number(spec.minValue), number(spec.maxValue));
            if (f.kind == FormField::Kind::List)
                f.rangeText
                    = QCoreApplication::translate("ExperimentPanel", "comma-separated, each %1")
                          .arg(f.rangeText);
        }
        out.append(f);
    }
    // Sections in the order people fill them in (the form keeps schema order inside each).
    const QStringList order = { QCoreApplication::translate("ExperimentPanel", "Experiment"),
        QCoreApplication::translate("ExperimentPanel", "Dataset"),
        QCoreApplication::translate("ExperimentPanel", "Built-in corpus"),
        QCoreApplication::translate("ExperimentPanel", "Noisy clips"),
        QCoreApplication::translate("ExperimentPanel", "Teacher"),
        QCoreApplication::translate("ExperimentPanel", "Teacher attention rollout"),
        QCoreApplication::translate("ExperimentPanel", "Students"),
        QCoreApplication::translate("ExperimentPanel", "Temporal KD"),
        QCoreApplication::translate("ExperimentPanel", "Grid"),
        QCoreApplication::translate("ExperimentPanel", "Training"),
        QCoreApplication::translate("ExperimentPanel", "Logit KD (baseline)"),
        QCoreApplication::translate("ExperimentPanel", "Student features"),
        QCoreApplication::translate("ExperimentPanel", "Output") };
    std::stable_sort(out.begin(), out.end(), [&](const FormField &a, const FormField &b) {
        return order.indexOf(a.section) < order.indexOf(b.section);
    });
    return out;
}

} // namespace tkd
