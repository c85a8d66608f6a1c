#pragma once

#include <QHash>
#include <QMap>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

class QCheckBox;
class QVBoxLayout;
class QLabel;
class QScrollArea;

namespace tkd {

// One editable key of a form, described by the app from core's config schema (the widget knows
// no core type). Every value travels as text: numbers as typed, lists comma-separated, booleans
// "true"/"false", a ChoiceList as its checked choices in choice order.
struct FormField
{
    enum class Kind {
        Text, // free text
        Choice, // one of `choices` (a combo box)
        Number, // a real number, typed (so a wrong one can be shown, not silently clamped)
        Integer, // a whole number, typed
        Bool, // a check box
        List, // comma-separated values
        ChoiceList, // any subset of `choices` (check boxes)
        Folder, // a folder path with a picker
        File // a file (or folder) path with a picker
    };
    QString key; // "train.lr"
    QString section; // group it is shown in ("Training")
    QString label; // "Learning rate"
    QString help; // one line: tooltip and the help line under the form
    Kind kind = Kind::Text;
    QStringList choices;
    QString rangeText; // "1e-09 ... 10", shown as the placeholder
    QString fileFilter; // File: "Weights (*.safetensors)"
};

// A form generated from a list of fields: sections as group boxes in two columns, each field with
// its editor and, right under it, its problem in red (hidden when there is none). The form only
// shows; whoever owns it validates (on edited()) and hands the problems back with setMessages().
class ExperimentForm : public QWidget
{
    Q_OBJECT
public:
    explicit ExperimentForm(QWidget *parent = nullptr);

    // Builds the editors (replacing any); `leftSections` go to the left column, the rest right.
    void setFields(const QVector<FormField> &fields, const QStringList &leftSections = {});
    const QVector<FormField> &fields() const { return m_fields; }
    bool hasField(const QString &key) const { return m_rows.contains(key); }

    // Values (see FormField). setValue never emits edited().
    void setValue(const QString &key, const QString &text);
    QString value(const QString &key) const;
    QMap<QString, QString> values() const;
    void setValues(const QMap<QString, QString> &values);

    // key -> message; every field not named loses its message. Returns the messages that match
    // no field (the owner shows those elsewhere).
    QStringList setMessages(const QMap<QString, QString> &messages);
    QString message(const QString &key) const;
    bool messageVisible(const QString &key) const;

    void setFieldEnabled(const QString &key, bool enabled);
    QWidget *editor(const QString &key) const;
    // The help line at the bottom (the focused field's key and help).
    QLabel *helpLine() const { return m_help; }

Q_SIGNALS:
    // The user changed a value (typing, picking, checking).
    void edited(const QString &key);

private:
    struct Row
    {
        FormField field;
        QWidget *editor = nullptr; // QLineEdit, QComboBox, QCheckBox or a container of check boxes
        QWidget *labelWidget = nullptr;
        QLabel *message = nullptr;
        QWidget *container = nullptr;
        QVector<QCheckBox *> checks; // ChoiceList
    };
    QWidget *makeEditor(Row &row);
    void showHelp(const Row &row);
    bool eventFilter(QObject *watched, QEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    // Two columns of sections when the form is wide enough, else one.
    void arrangeColumns(bool force = false);

    QVector<FormField> m_fields;
    QHash<QString, Row> m_rows;
    QHash<QObject *, QString> m_editorKeys;
    QScrollArea *m_scroll;
    QVBoxLayout *m_left = nullptr;
    QVBoxLayout *m_right = nullptr;
    QVector<QWidget *> m_leftBoxes, m_rightBoxes;
    int m_columnCount = 0;
    QLabel *m_help;
};

} // namespace tkd
