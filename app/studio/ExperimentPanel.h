#pragma once

#include "core/experiment/ExperimentConfig.h"

#include <QMap>
#include <QString>
#include <QStringList>
#include <QWidget>

class QAction;
class QLabel;
class QMenu;
class QPushButton;
class QTimer;

namespace tkd {

class ExperimentForm;
class RunController;

// The Experiment view: a form generated from ExperimentConfig::schema() (every key, its range and
// doc string), validated as the user types by core itself - the form's values become YAML that
// ExperimentConfig::parse() reads exactly as the CLI would, and each issue lands beside its field.
// Load / Save / Save As write the same commented YAML `tkd train --config` replays; recent files
// live in QSettings; Run hands the config to the RunController.
class ExperimentPanel : public QWidget
{
    Q_OBJECT
public:
    explicit ExperimentPanel(RunController *runs, QWidget *parent = nullptr);

    // Reads a file into the form. Problems in the file (syntax, unknown keys, bad values) are
    // listed with file:line; false only when nothing could be read (`error` says why).
    bool loadFile(const QString &path, QString *error = nullptr);
    // Writes the form as commented YAML (ExperimentConfig::toYaml) atomically.
    bool saveFile(const QString &path, QString *error = nullptr);
    void newExperiment();
    void setConfig(const ExperimentConfig &config);

    // Validates the form now (edits validate after a short pause by themselves).
    void validateNow();
    const ExperimentConfig &config() const { return m_config; }
    // Every current problem as "key: message".
    QStringList problems() const { return m_problems; }
    bool isValid() const { return m_problems.isEmpty(); }
    bool isModified() const { return m_modified; }
    QString filePath() const { return m_path; }
    // The file name, or "Untitled experiment".
    QString displayName() const;
    // Save (Save As without a file), asking what it must; false when cancelled or failed.
    bool saveInteractively() { return save(); }
    // The shipped example experiments (resources/experiments); empty when not found.
    static QString examplesDir();
    // More student runs than this ask before Run starts them.
    static constexpr size_t kLargeGrid = 8;
    // The form as the YAML text that was validated.
    QString formYaml() const;

    ExperimentForm *form() const { return m_form; }
    QPushButton *runButton() const { return m_run; }
    QLabel *summaryLabel() const { return m_summary; }
    static QStringList recentFiles();

    // Menu actions (the window puts them in File and Run).
    QAction *newAction() const { return m_newAction; }
    QAction *openAction() const { return m_openAction; }
    QAction *saveAction() const { return m_saveAction; }
    QAction *saveAsAction() const { return m_saveAsAction; }
    QAction *runAction() const { return m_runAction; }
    QAction *quickstartAction() const { return m_quickAction; }
    QMenu *recentMenu() const { return m_recentMenu; }

    // Run the form's experiment / the quick-start (the form shows what runs).
    bool run();
    bool runQuickstart();

Q_SIGNALS:
    void validated(int problems);
    void fileChanged(const QString &path);
    void runStarted();
    void errorReported(const QString &message);

private:
    void buildForm();
    void onEdited(const QString &key);
    void updateEnabled();
    void updateTitle();
    void addRecent(const QString &path);
    void open();
    bool save();
    bool saveAs();
    bool confirmDiscard();
    bool confirmSaveWithProblems();
    bool confirmLargeGrid();
    void updateRunEnabled();

    RunController *m_runs;
    ExperimentForm *m_form;
    QLabel *m_title;
    QLabel *m_summary;
    QLabel *m_fileProblems;
    QPushButton *m_run;
    QTimer *m_validateTimer;
    QAction *m_newAction;
    QAction *m_openAction;
    QAction *m_saveAction;
    QAction *m_saveAsAction;
    QAction *m_runAction;
    QAction *m_quickAction;
    QMenu *m_recentMenu;
    ExperimentConfig m_config;
    QStringList m_problems;
    QString m_path;
    bool m_modified = false;
};

} // namespace tkd
