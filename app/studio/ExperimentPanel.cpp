#include "ExperimentPanel.h"

#include "ExperimentFields.h"
#include "RunController.h"

#include "core/experiment/GridShape.h"
#include "core/models/StudentRegistry.h"
#include "core/util/Resources.h"
#include "widgets/ExperimentForm.h"

#include <QAction>
#include <QCoreApplication>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QSettings>
#include <QStyle>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>

namespace tkd {

namespace {

const QString kRecentKey = QStringLiteral("experiments/recent");

std::vector<std::string> splitKey(const QString &key)
{
    std::vector<std::string> parts;
    for (const QString &p : key.split(QLatin1Char('.')))
        parts.push_back(p.toStdString());
    return parts;
}

// The config's values as the form's texts, read back from its own YAML (so every key, the
// feature parameters included, is formatted exactly as the file would have it).
QMap<QString, QString> formValues(const ExperimentConfig &c)
{
    QMap<QString, QString> out;
    const YAML::Node root = YAML::Load(c.toYaml());
    for (const ConfigKeySpec &spec : ExperimentConfig::schema()) {
        YAML::Node n;
        n.reset(root);
        bool found = true;
        for (const std::string &part : splitKey(QString::fromStdString(spec.key))) {
            const YAML::Node parent = n;
            const YAML::Node child = parent[part];
            if (!child) {
                found = false;
                break;
            }
            n.reset(child);
        }
        if (!found)
            continue;
        QString text;
        if (n.IsSequence()) {
            QStringList items;
            for (const YAML::Node &item : n)
                items << QString::fromStdString(item.Scalar());
            text = items.join(QStringLiteral(", "));
        } else if (n.IsScalar()) {
            text = QString::fromStdString(n.Scalar());
        }
        out.insert(QString::fromStdString(spec.key), text);
    }
    return out;
}

// "48 student runs (2 students x 2 lambda x 4 lengths x 3 seeds)": the summary and the large-grid
// question say it the same way.
QString gridBreakdown(const ExperimentConfig &c)
{
    return QCoreApplication::translate("ExperimentPanel",
        "%1 student runs (%2 students \u00d7 %3 \u03bb \u00d7 %4 lengths \u00d7 %5 seeds)")
        .arg(studentCellCount(c))
        .arg(c.students.size())
        .arg(c.kd.lambdas.size())
        .arg(c.clipLengths().size())
        .arg(c.studentSeeds().size());
}
} // namespace

ExperimentPanel::ExperimentPanel(RunController *runs, QWidget *parent)
    : QWidget(parent)
    , m_runs(runs)
    , m_form(new ExperimentForm)
    , m_title(new QLabel)
    , m_summary(new QLabel)
    , m_fileProblems(new QLabel)
    , m_run(new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("Run")))
    , m_validateTimer(new QTimer(this))
{
    m_newAction = new QAction(tr("&New Experiment"), this);
    m_openAction = new QAction(
        style()->standardIcon(QStyle::SP_DialogOpenButton), tr("Open &Experiment..."), this);
    m_saveAction = new QAction(
        style()->standardIcon(QStyle::SP_DialogSaveButton), tr("&Save Experiment"), this);
    m_saveAsAction = new QAction(tr("Save Experiment &As..."), this);
    m_runAction
        = new QAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("&Run Experiment"), this);
    m_quickAction = new QAction(tr("Run &Quick-start"), this);
    m_recentMenu = new QMenu(tr("Open &Recent Experiment"), this);
    m_openAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    m_saveAction->setShortcut(QKeySequence::Save);
    m_saveAsAction->setShortcut(QKeySequence::SaveAs);
    m_runAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_quickAction->setToolTip(
        tr("The method end to end in minutes: built-in corpus, 8 s clips, a tiny teacher "
           "(or the oracle), TC-ResNet8 at lambda 0 and 0.25 (like tkd quickstart)"));
    connect(m_newAction, &QAction::triggered, this, [this] {
        if (confirmDiscard())
            newExperiment();
    });
    connect(m_openAction, &QAction::triggered, this, &ExperimentPanel::open);
    connect(m_saveAction, &QAction::triggered, this, &ExperimentPanel::save);
    connect(m_saveAsAction, &QAction::triggered, this, &ExperimentPanel::saveAs);
    connect(m_runAction, &QAction::triggered, this, &ExperimentPanel::run);
    connect(m_quickAction, &QAction::triggered, this, &ExperimentPanel::runQuickstart);
    connect(m_recentMenu, &QMenu::aboutToShow, this, [this] {
        m_recentMenu->clear();
        const QStringList files = recentFiles();
        for (const QString &f : files)
            m_recentMenu->addAction(f, this, [this, f] {
                if (!confirmDiscard())
                    return;
                QString error;
                if (!loadFile(f, &error))
                    Q_EMIT errorReported(error);
            });
        if (files.isEmpty())
            m_recentMenu->addAction(tr("(none yet)"))->setEnabled(false);
    });

    // Header: file name, buttons; the summary of problems; then the form.
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.15);
    m_title->setFont(titleFont);
    // Run first: whatever width the panel gets, Run is the control that stays in view. The file
    // buttons are icons; the file name gets a line of its own and elides.
    auto *header = new QHBoxLayout;
    m_run->setToolTip(tr("Run this experiment (Ctrl+R); follow it in the Training view"));
    QFont runFont = m_run->font();
    runFont.setBold(true);
    m_run->setFont(runFont);
    header->addWidget(m_run);
    auto *quick = new QPushButton(tr("Quick-start"));
    quick->setToolTip(m_quickAction->toolTip());
    connect(quick, &QPushButton::clicked, m_quickAction, &QAction::trigger);
    header->addWidget(quick);
    header->addStretch(1);
    for (QAction *a : { m_openAction, m_saveAction, m_saveAsAction }) {
        auto *b = new QToolButton;
        b->setDefaultAction(a);
        b->setToolButtonStyle(
            a == m_saveAsAction ? Qt::ToolButtonTextOnly : Qt::ToolButtonIconOnly);
        if (a == m_saveAsAction)
            b->setText(tr("Save As..."));
        header->addWidget(b);
    }
    m_title->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    connect(m_run, &QPushButton::clicked, this, &ExperimentPanel::run);

    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::RichText);
    m_fileProblems->setWordWrap(true);
    m_fileProblems->setTextFormat(Qt::RichText);
    m_fileProblems->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_fileProblems->setVisible(false);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(header);
    layout->addWidget(m_title);
    layout->addWidget(m_summary);
    layout->addWidget(m_fileProblems);
    layout->addWidget(m_form, 1);

    buildForm();
    m_validateTimer->setSingleShot(true);
    m_validateTimer->setInterval(150);
    connect(m_validateTimer, &QTimer::timeout, this, &ExperimentPanel::validateNow);
    connect(m_form, &ExperimentForm::edited, this, &ExperimentPanel::onEdited);
    connect(m_runs, &RunController::started, this, &ExperimentPanel::updateRunEnabled);
    connect(m_runs, &RunController::finished, this, &ExperimentPanel::updateRunEnabled);
    newExperiment();
}

void ExperimentPanel::buildForm()
{
    m_form->setFields(experimentFormFields(),
        { tr("Experiment"), tr("Dataset"), tr("Built-in corpus"), tr("Noisy clips"), tr("Teacher"),
            tr("Teacher attention rollout") });
}

void ExperimentPanel::newExperiment()
{
    m_path.clear();
    m_fileProblems->setVisible(false);
    setConfig(ExperimentConfig());
    m_modified = false;
    updateTitle();
    Q_EMIT fileChanged(m_path);
}

void ExperimentPanel::setConfig(const ExperimentConfig &config)
{
    m_form->setValues(formValues(config));
    m_modified = true;
    validateNow();
    updateTitle();
}

QString ExperimentPanel::formYaml() const
{
    // Each field at its key path; numbers as typed (a wrong one reaches core's reader as text,
    // which names it), lists as flow sequences. yaml-cpp quotes whatever needs quoting.
    YAML::Node root(YAML::NodeType::Map);
    for (const FormField &f : m_form->fields()) {
        const std::vector<std::string> parts = splitKey(f.key);
        YAML::Node n;
        n.reset(root);
        for (size_t i = 0; i + 1 < parts.size(); ++i) {
            YAML::Node child = n[parts[i]];
            n.reset(child);
        }
        const QString text = m_form->value(f.key).trimmed();
        YAML::Node value;
        switch (f.kind) {
        case FormField::Kind::List:
        case FormField::Kind::ChoiceList: {
            value = YAML::Node(YAML::NodeType::Sequence);
            for (const QString &item : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
                if (!item.trimmed().isEmpty())
                    value.push_back(item.trimmed().toStdString());
            value.SetStyle(YAML::EmitterStyle::Flow);
            break;
        }
        case FormField::Kind::Number:
        case FormField::Kind::Integer:
            value = text.isEmpty() ? YAML::Node(YAML::NodeType::Null)
                                   : YAML::Node(text.toStdString());
            break;
        default:
            value = YAML::Node(m_form->value(f.key).toStdString());
            break;
        }
        n[parts.back()] = value;
    }
    YAML::Emitter out;
    out << root;
    return QString::fromUtf8(out.c_str());
}

void ExperimentPanel::onEdited(const QString &)
{
    m_modified = true;
    updateTitle();
    updateEnabled();
    m_validateTimer->start();
}

void ExperimentPanel::validateNow()
{
    m_validateTimer->stop();
    std::vector<ConfigIssue> issues;
    ExperimentConfig parsed;
    try {
        parsed = ExperimentConfig::parse(formYaml().toStdString(), "<form>", issues);
    } catch (const std::exception &e) {
        issues.push_back({ std::string(), e.what(), std::string(), 0 });
    }
    m_config = parsed;
    QMap<QString, QString> messages;
    m_problems.clear();
    for (const ConfigIssue &issue : issues) {
        const QString key = QString::fromStdString(issue.key);
        const QString msg = QString::fromStdString(issue.message);
        messages[key] = messages.contains(key) ? messages[key] + QLatin1Char('\n') + msg : msg;
        m_problems << (key.isEmpty() ? msg : key + QStringLiteral(": ") + msg);
    }
    const QStringList elsewhere = m_form->setMessages(messages);
    if (m_problems.isEmpty()) {
        const ExperimentConfig &c = m_config;
        m_summary->setText(
            tr("<span style=\"color:#1e8449\">&#10004; Valid.</span> %1, %2 epochs each; teacher: "
               "%3.")
                .arg(gridBreakdown(c).toHtmlEscaped())
                .arg(c.train.epochs)
                .arg(QString::fromLatin1(teacherKindName(c.teacher.kind))));
    } else {
        QString text = tr("<span style=\"color:#c0392b\">&#10008; %n problem(s)</span>: fix the "
                          "fields marked in red.",
            nullptr, int(m_problems.size()));
        for (const QString &s : elsewhere)
            text += QStringLiteral("<br>&bull; ") + s.toHtmlEscaped();
        m_summary->setText(text);
    }
    updateEnabled();
    updateRunEnabled();
    Q_EMIT validated(int(m_problems.size()));
}

void ExperimentPanel::updateEnabled()
{
    // Fields that mean nothing in the current combination are greyed out (their values still
    // round-trip through the file).
    const QString source = m_form->value(QStringLiteral("data.source"));
    // The form holds names; compare the enums their name tables give (unknown: checked elsewhere).
    auto kindOf = [this](const QString &key, auto fromName, auto fallback) {
        try {
            return fromName(m_form->value(key).toStdString());
        } catch (const Error &) {
            return fallback;
        }
    };
    const TeacherKind teacher
        = kindOf(QStringLiteral("teacher.kind"), teacherKindFromName, TeacherKind::Pretrained);
    const OptimiserKind optimiser
        = kindOf(QStringLiteral("train.optimizer"), optimiserFromName, OptimiserKind::Adam);
    const QString noise = m_form->value(QStringLiteral("data.noisy.noise"));
    const bool builtin = source == QLatin1String("builtin");
    for (const FormField &f : m_form->fields()) {
        bool on = true;
        if (f.key.startsWith(QLatin1String("data.corpus.")))
            on = builtin;
        else if (f.key == QLatin1String("teacher.weights"))
            on = teacher == TeacherKind::Pretrained || teacher == TeacherKind::Imported;
        else if (f.key.startsWith(QLatin1String("teacher."))
            && f.key != QLatin1String("teacher.kind"))
            on = teacher != TeacherKind::Oracle;
        else if (f.key == QLatin1String("train.momentum"))
            on = optimiser == OptimiserKind::Sgd;
        else if (f.key == QLatin1String("kd.logit_kd.temperature"))
            on = m_form->value(QStringLiteral("kd.logit_kd.weight")).trimmed().toDouble() != 0.0;
        else if (f.key == QLatin1String("data.noisy.noise_dir"))
            on = noise.contains(QLatin1String("folder"));
        else if (f.key.startsWith(QLatin1String("data.noisy.babble_")))
            on = noise.contains(QLatin1String("babble"));
        m_form->setFieldEnabled(f.key, on);
    }
}

void ExperimentPanel::updateTitle()
{
    const QString name
        = m_path.isEmpty() ? tr("Untitled experiment") : QFileInfo(m_path).fileName();
    m_title->setText(name + (m_modified ? QStringLiteral(" *") : QString()));
    m_title->setToolTip(m_path);
}

void ExperimentPanel::updateRunEnabled()
{
    const bool busy = m_runs->isRunning();
    m_run->setEnabled(!busy && isValid());
    m_runAction->setEnabled(!busy);
    m_quickAction->setEnabled(!busy);
    m_run->setToolTip(busy ? tr("A run is going: stop it or wait for it first")
            : isValid()    ? tr("Run this experiment (Ctrl+R); follow it in the Training view")
                           : tr("Fix the problems first"));
}

bool ExperimentPanel::loadFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = tr("%1: cannot read (%2)").arg(path, file.errorString());
        return false;
    }
    const std::string text = file.readAll().toStdString();
    std::vector<ConfigIssue> issues;
    ExperimentConfig c;
    try {
        c = ExperimentConfig::parse(text, path.toStdString(), issues);
    } catch (const std::exception &e) {
        if (error)
            *error = QString::fromUtf8(e.what());
        return false;
    }
    m_path = QFileInfo(path).absoluteFilePath();
    // What was in the file, with file:line: the form cannot show unknown keys or values of the
    // wrong type (they fall back to defaults), so they are listed here once.
    QStringList lines;
    for (const ConfigIssue &issue : issues)
        lines << QString::fromStdString(issue.toString()).toHtmlEscaped();
    m_fileProblems->setText(lines.isEmpty()
            ? QString()
            : tr("<b>When read, the file had %n problem(s):</b><br>", nullptr, int(lines.size()))
                + lines.join(QStringLiteral("<br>")));
    m_fileProblems->setVisible(!lines.isEmpty());
    m_form->setValues(formValues(c));
    validateNow();
    m_modified = false;
    updateTitle();
    addRecent(m_path);
    Q_EMIT fileChanged(m_path);
    return true;
}

bool ExperimentPanel::saveFile(const QString &path, QString *error)
{
    validateNow();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error)
            *error = tr("%1: cannot write (%2)").arg(path, file.errorString());
        return false;
    }
    file.write(QByteArray::fromStdString(m_config.toYaml()));
    if (!file.commit()) {
        if (error)
            *error = tr("%1: cannot write (%2)").arg(path, file.errorString());
        return false;
    }
    m_path = QFileInfo(path).absoluteFilePath();
    m_modified = false;
    m_fileProblems->setVisible(false);
    updateTitle();
    addRecent(m_path);
    Q_EMIT fileChanged(m_path);
    return true;
}

QString ExperimentPanel::displayName() const
{
    return m_path.isEmpty() ? tr("Untitled experiment") : QFileInfo(m_path).fileName();
}

QString ExperimentPanel::examplesDir()
{
    try {
        return QFileInfo(QString::fromStdString(findResource("experiments/quick.yaml")))
            .absolutePath();
    } catch (const std::exception &) {
        return QString();
    }
}

bool ExperimentPanel::confirmLargeGrid()
{
    const ExperimentConfig &c = m_config;
    const size_t cells = studentCellCount(c);
    if (cells <= kLargeGrid)
        return true;
    // A rough guide, not a promise: TC-ResNet8 took about 3 s per epoch over 2,880 clips of
    // 8 s on the 2-core build machine (README); recurrent students take several times longer.
    double clipSeconds = 0.0;
    for (double l : c.clipLengths())
        clipSeconds += l;
    const double perEpoch = 3.0 * (clipSeconds / double(c.clipLengths().size())) / 8.0;
    const double minutes = double(cells) * c.train.epochs * perEpoch / 60.0;
    QMessageBox box(QMessageBox::Question, tr("Run a large grid?"),
        tr("This experiment trains %1, %2 epochs each, plus the teacher. At the speed of a small "
           "student on a 2-core machine that is at least %3; recurrent students take several "
           "times longer.\n\nRun it now?")
            .arg(gridBreakdown(c))
            .arg(c.train.epochs)
            .arg(minutes >= 90 ? tr("%1 hours").arg(minutes / 60.0, 0, 'f', 1)
                               : tr("%1 minutes").arg(std::max(1.0, std::round(minutes)))),
        QMessageBox::Yes | QMessageBox::Cancel, this);
    box.setObjectName(QStringLiteral("confirmLargeGrid"));
    box.setDefaultButton(QMessageBox::Cancel);
    return box.exec() == QMessageBox::Yes;
}

QStringList ExperimentPanel::recentFiles()
{
    return QSettings().value(kRecentKey).toStringList();
}

void ExperimentPanel::addRecent(const QString &path)
{
    QStringList files = recentFiles();
    files.removeAll(path);
    files.prepend(path);
    while (files.size() > 10)
        files.removeLast();
    QSettings().setValue(kRecentKey, files);
}

bool ExperimentPanel::confirmDiscard()
{
    if (!m_modified)
        return true;
    const auto answer = QMessageBox::question(this, tr("Unsaved experiment"),
        tr("The experiment has unsaved changes. Discard them?"),
        QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Cancel);
    return answer == QMessageBox::Discard;
}

void ExperimentPanel::open()
{
    if (!confirmDiscard())
        return;
    QString start = m_path.isEmpty() ? recentFiles().value(0) : m_path;
    if (start.isEmpty())
        start = examplesDir(); // a newcomer starts from the shipped examples
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open an experiment"), start, tr("Experiments (*.yaml *.yml);;All files (*)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!loadFile(path, &error))
        Q_EMIT errorReported(error);
}

bool ExperimentPanel::confirmSaveWithProblems()
{
    validateNow();
    if (isValid())
        return true;
    // The file is written from what core read back: a value of the wrong type (text in a number
    // field) cannot be kept and falls back to its default; out-of-range values are kept.
    const auto answer = QMessageBox::question(this, tr("Save with problems?"),
        tr("The experiment has %n problem(s); tkd will not run it until they are fixed. Values of "
           "the wrong "
           "type are saved as their defaults.\n\n",
            nullptr, int(m_problems.size()))
            + m_problems.mid(0, 8).join(QLatin1Char('\n')) + tr("\n\nSave anyway?"),
        QMessageBox::Save | QMessageBox::Cancel, QMessageBox::Cancel);
    return answer == QMessageBox::Save;
}

bool ExperimentPanel::save()
{
    if (m_path.isEmpty())
        return saveAs();
    if (!confirmSaveWithProblems())
        return false;
    QString error;
    if (!saveFile(m_path, &error)) {
        Q_EMIT errorReported(error);
        return false;
    }
    return true;
}

bool ExperimentPanel::saveAs()
{
    if (!confirmSaveWithProblems())
        return false;
    QString start = m_path;
    if (start.isEmpty())
        start = QString::fromStdString(m_config.name) + QStringLiteral(".yaml");
    QString path = QFileDialog::getSaveFileName(
        this, tr("Save the experiment"), start, tr("Experiments (*.yaml *.yml)"));
    if (path.isEmpty())
        return false;
    if (QFileInfo(path).suffix().isEmpty())
        path += QStringLiteral(".yaml");
    QString error;
    if (!saveFile(path, &error)) {
        Q_EMIT errorReported(error);
        return false;
    }
    return true;
}

bool ExperimentPanel::run()
{
    validateNow();
    if (!isValid()) {
        Q_EMIT errorReported(
            tr("The experiment has %n problem(s):\n", nullptr, int(m_problems.size()))
            + m_problems.join(QLatin1Char('\n')));
        return false;
    }
    if (!confirmLargeGrid())
        return false;
    QString error;
    // Relative runs folders are taken from the experiment file's folder, like the CLI run there.
    const QString base = m_path.isEmpty() ? QString() : QFileInfo(m_path).absolutePath();
    if (!m_runs->start(m_config, {}, base, &error)) {
        Q_EMIT errorReported(error);
        return false;
    }
    Q_EMIT runStarted();
    return true;
}

bool ExperimentPanel::runQuickstart()
{
    if (m_runs->isRunning()) {
        Q_EMIT errorReported(tr("A run is already going (%1); stop it or wait for it first.")
                                 .arg(m_runs->runName()));
        return false;
    }
    if (!confirmDiscard())
        return false;
    m_path.clear();
    m_fileProblems->setVisible(false);
    setConfig(RunController::quickstartConfig());
    m_modified = false;
    m_title->setText(tr("Quick-start"));
    QString error;
    if (!m_runs->startQuickstart(&error)) {
        Q_EMIT errorReported(error);
        return false;
    }
    Q_EMIT runStarted();
    return true;
}

} // namespace tkd
